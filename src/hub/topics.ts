import { HubError } from './errors'

/**
 * Topic syntax (documented in the README, "Topics"):
 * - a topic is 1 to 32 segments joined by `/`, at most 256 characters in all;
 * - a segment is one or more of `A-Z a-z 0-9 _ - . ~ : @ + = , !`;
 * - a selector is a topic, or a pattern in which a whole segment may be `*` (exactly one
 *   segment) and the last segment may be `**` (one or more segments: `chat/**` matches
 *   `chat/a` and `chat/a/b`, not `chat`).
 */
export const TOPIC_LIMITS = { maxLength: 256, maxSegments: 32 } as const

const SEGMENT = /^[A-Za-z0-9_\-.~:@+=,!]+$/

function describe(text: unknown): string {
  return JSON.stringify(String(text).slice(0, 80))
}

function segmentsOf(text: unknown, code: 'invalid_topic' | 'invalid_selector', what: string): string[] {
  if (typeof text !== 'string' || text.length === 0) {
    throw new HubError(code, `${what} must be a non-empty string`)
  }
  if (text.length > TOPIC_LIMITS.maxLength) {
    throw new HubError(code, `${what} is longer than ${TOPIC_LIMITS.maxLength} characters`)
  }
  const segments = text.split('/')
  if (segments.length > TOPIC_LIMITS.maxSegments) {
    throw new HubError(code, `${what} has more than ${TOPIC_LIMITS.maxSegments} segments`)
  }
  return segments
}

/** Throws `invalid_topic` unless `text` is a concrete topic; returns it typed as a string. */
export function validateTopic(text: unknown): string {
  const segments = segmentsOf(text, 'invalid_topic', 'topic')
  for (const segment of segments) {
    if (!SEGMENT.test(segment)) {
      throw new HubError(
        'invalid_topic',
        `invalid topic ${describe(text)}: segments are separated by "/", are non-empty and use only A-Z a-z 0-9 _ - . ~ : @ + = , ! (wildcards are for subscriptions)`,
      )
    }
  }
  return text as string
}

/** A compiled subscription selector. */
export interface Selector {
  /** The selector as the client wrote it. */
  readonly source: string
  /** True when it contains `*` or `**`. */
  readonly isPattern: boolean
  matches(topic: string): boolean
}

/** Throws `invalid_selector` unless `text` is a topic or a pattern as documented above. */
export function parseSelector(text: unknown): Selector {
  const segments = segmentsOf(text, 'invalid_selector', 'topic selector')
  const source = text as string
  let isPattern = false
  segments.forEach((segment, index) => {
    if (segment === '*') {
      isPattern = true
      return
    }
    if (segment === '**') {
      if (index !== segments.length - 1) {
        throw new HubError('invalid_selector', `invalid selector ${describe(source)}: "**" may only be the last segment`)
      }
      isPattern = true
      return
    }
    if (!SEGMENT.test(segment)) {
      throw new HubError(
        'invalid_selector',
        `invalid selector ${describe(source)}: a segment is a topic segment, "*" (one segment) or a final "**" (one or more segments)`,
      )
    }
  })
  return isPattern ? new PatternSelector(source) : new TopicSelector(source)
}

// Selectors are small objects with shared methods (no closures), since a server may hold a hundred
// thousand of them.
class TopicSelector implements Selector {
  readonly isPattern = false
  constructor(readonly source: string) {}

  matches(topic: string): boolean {
    return topic === this.source
  }
}

class PatternSelector implements Selector {
  readonly isPattern = true
  /** Compiled on first use: the registry matches through its index and never calls `matches`. */
  private regex: RegExp | undefined
  constructor(readonly source: string) {}

  matches(topic: string): boolean {
    this.regex ??= new RegExp(`^${this.source.split('/').map(segmentRegex).join('/')}$`)
    return this.regex.test(topic)
  }
}

function segmentRegex(segment: string): string {
  if (segment === '*') return '[^/]+'
  if (segment === '**') return '.+'
  return segment.replace(/[.+]/g, '\\$&')
}

import { HubError } from './errors'
import { refuseUnknownFields } from './fields'
import { type EventId, parseEventId } from './id'
import { validateTopic } from './topics'

/** One published event, as stored in history and delivered to every transport. */
export interface HubEvent {
  /** `<ms>-<seq>`, unique and increasing across the hub (see id.ts). */
  readonly id: string
  /** The parsed id, for ordering without re-parsing. */
  readonly position: EventId
  readonly topic: string
  /** The SSE event name; undefined means the default `message`. */
  readonly event?: string
  /** The payload as text: the string published, or the JSON text of any other JSON value. */
  readonly data: string
  /** True when `data` is JSON text of a non-string value (WS frames then embed it as JSON). */
  readonly json: boolean
  /** Publish time, milliseconds since the epoch. */
  readonly time: number
  /**
   * True for a private event: it reaches only subscribers whose principal's `maySee` says yes
   * (principal.ts), live and on replay. Absent (never `false`) on every other event.
   */
  readonly private?: true
}

/** What a publisher hands the hub (from HTTP, WebSocket or code). */
export interface PublishInput {
  topic: string
  /** A string, or any JSON value (serialized once, as JSON text). Required. */
  data: unknown
  event?: string
  /** A publisher-chosen id; must be `<ms>-<seq>` and newer than every id so far. */
  id?: string
  /** `true`: a private event (see HubEvent.private); `false`, null or absent: an ordinary one. */
  private?: boolean
}

/** A validated publish, waiting for its id. */
export interface ValidatedInput {
  topic: string
  event?: string
  data: string
  json: boolean
  id?: EventId
  /** Set only for a private event. */
  private?: true
}

/** The fields of a publish, from any edge (HTTP bodies and forms, WebSocket `publish`, code). */
export const PUBLISH_FIELDS = ['topic', 'data', 'event', 'id', 'private'] as const

/**
 * The event names Herald itself writes on SSE topic streams (transports/frames.ts: `sseReset`,
 * `sseClosing`, whose parameters are typed with this list).
 */
export const SSE_CONTROL_EVENTS = ['reset', 'overflow', 'shutdown', 'token_expired'] as const
export type SseControlEvent = (typeof SSE_CONTROL_EVENTS)[number]

/** The `type` of every WebSocket message the server sends (frames.ts `wsMessage` only takes these). */
export const WS_SERVER_TYPES = ['event', 'subscribed', 'unsubscribed', 'published', 'authenticated', 'reset', 'error', 'pong'] as const
export type WsServerType = (typeof WS_SERVER_TYPES)[number]

/**
 * Names a browser's EventSource fires by itself: an SSE event named `error` reaches every
 * `onerror` handler (which reads it as a broken connection), `open` every `onopen` handler.
 */
export const EVENTSOURCE_EVENTS = ['open', 'error'] as const

/**
 * Names Herald or the browser use for their own messages; a publisher may not impersonate them,
 * in any letter case (compare the lower-cased name). test/hub/reserved-names.test.ts checks that
 * every `event:` and `type:` Herald's transports write is in here, so a new one is not forgotten.
 */
export const RESERVED_EVENT_NAMES: ReadonlySet<string> = new Set<string>([...SSE_CONTROL_EVENTS, ...WS_SERVER_TYPES, ...EVENTSOURCE_EVENTS])

/** How a size error names the setting that raises the limit (see config.ts OPTIONS). */
export const MESSAGE_SIZE_OPTION = '--max-message-size / HERALD_MAX_MESSAGE_SIZE'
const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,64}$/

/**
 * Deepest nesting of arrays and objects `data` may have. Deeper values are refused: they serve no
 * real payload, and serializing them costs time that grows faster than their size (30,000 levels
 * in 64 KB took ~400 ms to stringify on Bun 1.4.5).
 */
export const MAX_DATA_DEPTH = 64

/** True when `value` nests arrays/objects more than `limit` deep. Iterative: no stack to overflow. */
function deeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]]
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [node, depth] = item
    if (depth > limit) return true
    for (const child of Array.isArray(node) ? node : Object.values(node as object)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
    }
  }
  return false
}

/** The data as text: strings as they are (if they are valid Unicode), other JSON values serialized. */
function dataText(data: unknown): string {
  if (typeof data === 'string') {
    // A lone surrogate cannot be written as UTF-8: SSE would turn it into U+FFFD and a durable
    // store could not give it back unchanged, so it is refused rather than altered.
    if (!data.isWellFormed()) throw new HubError('invalid_data', '"data" contains a lone surrogate (\\ud800-\\udfff): not valid Unicode text')
    return data
  }
  if (typeof data === 'object' && data !== null && deeperThan(data, MAX_DATA_DEPTH)) {
    throw new HubError('invalid_data', `"data" is nested more than ${MAX_DATA_DEPTH} levels deep`)
  }
  let text: string | undefined
  try {
    text = JSON.stringify(data)
  } catch {
    text = undefined
  }
  // Only reachable from code (HTTP and WebSocket give parsed JSON): BigInt, cycles, functions.
  if (typeof text !== 'string') throw new HubError('invalid_data', '"data" must be a string or a JSON value')
  return text
}

/**
 * Checks one publish. A field other than PUBLISH_FIELDS is `unknown_field` (edges check their own
 * shapes first, with messages that list what they accept). Event names are restricted to
 * `A-Z a-z 0-9 _ . : -` (1-64 characters), so a name can never carry CR, LF or NUL into the SSE
 * stream, and RESERVED_EVENT_NAMES are refused in any case. `maxDataBytes` bounds the UTF-8 size
 * of the data (0 = no limit). `private` is `true` or `false` (null and absent mean `false`).
 */
export function validatePublish(input: unknown, maxDataBytes: number): ValidatedInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new HubError('invalid_message', 'a publish must be a JSON object with "topic" and "data"')
  }
  // Checked first: a misspelt field (`evnt`) is the likely cause of whatever else looks wrong.
  refuseUnknownFields(input, PUBLISH_FIELDS, 'a publish')
  const { topic, data, event, id, private: isPrivate } = input as Record<string, unknown>
  const validTopic = validateTopic(topic)
  if (data === undefined) throw new HubError('invalid_data', '"data" is required (a string or any JSON value)')
  const json = typeof data !== 'string'
  const text = dataText(data)
  if (maxDataBytes > 0 && text.length > maxDataBytes / 3 && Buffer.byteLength(text) > maxDataBytes) {
    throw new HubError('payload_too_large', `"data" is larger than the limit of ${maxDataBytes} bytes (set by ${MESSAGE_SIZE_OPTION})`)
  }
  const result: ValidatedInput = { topic: validTopic, data: text, json }
  if (event !== undefined && event !== null && event !== '' && event !== 'message') {
    if (typeof event !== 'string' || !EVENT_NAME.test(event)) {
      throw new HubError('invalid_event', 'an event name is 1-64 characters of A-Z a-z 0-9 _ . : -')
    }
    if (RESERVED_EVENT_NAMES.has(event.toLowerCase())) {
      throw new HubError('invalid_event', `the event name "${event}" is reserved (Herald and browsers use ${[...RESERVED_EVENT_NAMES].join(', ')}, in any case, for their own messages)`)
    }
    result.event = event
  }
  if (id !== undefined && id !== null && id !== '') {
    if (typeof id !== 'string') throw new HubError('invalid_id', '"id" must be a string')
    result.id = parseEventId(id)
  }
  if (isPrivate !== undefined && isPrivate !== null && isPrivate !== false) {
    if (isPrivate !== true) throw new HubError('invalid_message', '"private" must be true or false')
    result.private = true
  }
  return result
}

import { HeraldError } from './errors'

/** One dispatched SSE event, as EventSource would see it. */
export interface SseBlock {
  /** The last event id: this block's `id:`, or the one before it (ids persist, as in EventSource). */
  id: string
  /** `event:`, or `message`. */
  event: string
  /** The `data:` lines joined with `\n`. */
  data: string
  /** A `topic:` field, if the server sends one (EventSource ignores unknown fields). */
  topic: string | undefined
}

/**
 * An incremental parser for `text/event-stream` by the WHATWG rules (CR, LF and CRLF all end a
 * line, even split across chunks; a block without data is not dispatched; `id` holding NUL is
 * ignored). Bounded: a line or an event's data longer than `max` characters throws
 * `payload_too_large`, so no server can make it hold more.
 */
export class SseParser {
  /** The `retry:` hint last seen, in milliseconds. */
  retry: number | undefined
  private pending = ''
  private id = ''
  private event = ''
  private data: string | undefined
  private topic: string | undefined

  constructor(
    private readonly max: number,
    private readonly emit: (block: SseBlock) => void,
  ) {}

  /** Parses a decoded chunk; calls `emit` for each complete event. */
  push(chunk: string): void {
    const text = this.pending + chunk
    let start = 0
    let lf = text.indexOf('\n')
    let cr = text.indexOf('\r')
    for (;;) {
      // Both positions are cached and only searched again once passed: linear in the chunk.
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start)
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start)
      let end: number
      let next: number
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        // A CR last in the chunk may be the first half of a CRLF: wait for the next chunk.
        if (cr === text.length - 1) break
        end = cr
        next = lf === cr + 1 ? cr + 2 : cr + 1
      } else if (lf !== -1) {
        end = lf
        next = lf + 1
      } else break
      this.line(text.slice(start, end))
      start = next
    }
    this.pending = text.slice(start)
    if (this.pending.length > this.max) this.tooLarge()
  }

  private line(line: string): void {
    if (line === '') return this.dispatch()
    if (line.charCodeAt(0) === 58) return // ':' starts a comment (keep-alives)
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    if (field === 'data') {
      this.data = this.data === undefined ? value : `${this.data}\n${value}`
      if (this.data.length > this.max) this.tooLarge()
    } else if (field === 'event') this.event = value
    else if (field === 'id') {
      if (!value.includes('\0')) this.id = value
    } else if (field === 'retry') {
      if (/^\d+$/.test(value)) this.retry = Number(value)
    } else if (field === 'topic') this.topic = value
  }

  private dispatch(): void {
    const { data, event, topic } = this
    this.data = this.topic = undefined
    this.event = ''
    if (data !== undefined) this.emit({ id: this.id, event: event || 'message', data, topic })
  }

  private tooLarge(): never {
    throw new HeraldError('payload_too_large', `an SSE line or event is longer than maxEventSize (${this.max} characters)`)
  }
}

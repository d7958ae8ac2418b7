/**
 * What a host app's generator route yields to write Server-Sent Events with Herald's framing.
 *
 * Elysia streams a generator's values: a value with a `toSSE()` method is written as what that
 * method returns, and a first value with a truthy `sse` makes the response `text/event-stream`
 * (Elysia 1.4.30, adapter/utils createStreamHandler). Elysia's own `sse()` writes data with line
 * breaks as one `data:` line, which breaks the framing; these items write correct SSE bytes.
 */
import type { Delivery } from '../hub/delivery'
import { HubError } from '../hub/errors'
import type { HubEvent } from '../hub/event'
import { sseFrame, sseReset } from '../transports/frames'

const utf8 = new TextEncoder()

/** Anything Elysia writes as SSE bytes. */
export interface SseItem {
  /** Marks the stream as Server-Sent Events when it is the first value yielded. */
  readonly sse: true
  /** The exact bytes of this item on the wire. */
  toSSE(): Uint8Array
}

/**
 * One event from a Herald topic. Immutable, and shared by every subscriber of the event in this
 * process (made once per event), as are its SSE bytes.
 */
export class HeraldEvent implements SseItem {
  readonly type = 'event' as const
  /** `<ms>-<seq>`: pass it back as `lastEventId` to resume after this event. */
  readonly id: string
  readonly topic: string
  /** The SSE event name; undefined for the default `message`. */
  readonly event: string | undefined
  /** Publish time, milliseconds since the epoch. */
  readonly time: number
  #data: unknown
  #parsed = false

  constructor(private readonly source: HubEvent) {
    this.id = source.id
    this.topic = source.topic
    this.event = source.event
    this.time = source.time
  }

  /** The payload as published: a string, or the JSON value (parsed on first use, once). */
  get data(): unknown {
    if (!this.#parsed) {
      this.#data = this.source.json ? JSON.parse(this.source.data) : this.source.data
      this.#parsed = true
    }
    return this.#data
  }

  /** The payload as text: the string published, or the JSON text of any other value. */
  get text(): string {
    return this.source.data
  }

  get sse(): true {
    return true
  }

  toSSE(): Uint8Array {
    return sseFrame(this.source)
  }

  /** `JSON.stringify(event)`: the same shape as a WebSocket `event` message, without `type`. */
  toJSON(): { id: string; topic: string; event?: string; data: unknown; time: number } {
    return { id: this.id, topic: this.topic, ...(this.event ? { event: this.event } : {}), data: this.data, time: this.time }
  }
}

/** Made once per delivered event and shared by every in-process subscriber (see Delivery.encode). */
export const toHeraldEvent = (event: HubEvent): HeraldEvent => new HeraldEvent(event)

/** The HeraldEvent of a delivery, made at most once however many subscribers get it. */
export function heraldEventOf(delivery: Delivery): HeraldEvent {
  return delivery.encode(toHeraldEvent)
}

/**
 * Yielded first when the resume position could not be served in full (too old, unknown, or more
 * than the replay limit behind): the consumer must reload its state. Written as Herald's `reset`
 * SSE event, whose id is `head`, so a browser's next reconnect continues from there.
 */
export class HeraldReset implements SseItem {
  readonly type = 'reset' as const

  constructor(
    /** The newest id when the subscription started: what was missed ends there. */
    readonly head: string,
    /** The position asked for. */
    readonly lastEventId: string | null,
  ) {}

  get sse(): true {
    return true
  }

  toSSE(): Uint8Array {
    return sseReset(this.head, this.lastEventId ?? undefined)
  }
}

/** What `herald.subscribe()` yields. */
export type HeraldItem = HeraldEvent | HeraldReset

/** A plain event a route yields: `data` (a string as is, anything else as JSON text), and optional `event`, `id`, `retry`. */
export interface SseFields {
  data: unknown
  event?: string | undefined
  id?: string | undefined
  /** Reconnect delay for EventSource, in milliseconds. */
  retry?: number | undefined
}

const NO_LINE_BREAK = /^[^\r\n\0]*$/

/** Refuses an id or event name that would inject a line (or a NUL, which EventSource ignores ids with). */
function singleLine(value: string, field: 'event' | 'id'): string {
  if (!NO_LINE_BREAK.test(value)) throw new HubError('invalid_event', `sse(): "${field}" must not contain CR, LF or NUL`)
  return value
}

/** A plain SSE frame: `sse({ data, event, id })` from Herald, with data split on every line break. */
export class SseFrame implements SseItem {
  readonly #bytes: Uint8Array

  constructor(fields: SseFields) {
    const text = typeof fields.data === 'string' ? fields.data : JSON.stringify(fields.data)
    if (typeof text !== 'string') throw new HubError('invalid_data', 'sse(): "data" must be a string or a JSON value')
    let frame = ''
    if (fields.retry !== undefined) frame += `retry: ${Math.max(0, Math.round(fields.retry))}\n`
    if (fields.id !== undefined) frame += `id: ${singleLine(fields.id, 'id')}\n`
    if (fields.event !== undefined && fields.event !== '') frame += `event: ${singleLine(fields.event, 'event')}\n`
    for (const line of text.split(/\r\n|\r|\n/)) frame += `data: ${line}\n`
    this.#bytes = utf8.encode(`${frame}\n`)
  }

  get sse(): true {
    return true
  }

  toSSE(): Uint8Array {
    return this.#bytes
  }
}

/**
 * One Server-Sent Event for a generator route, framed correctly whatever `data` holds: each line of
 * it becomes its own `data:` line. An `id` or `event` with CR, LF or NUL throws `invalid_event`.
 */
export function sse(fields: SseFields): SseFrame {
  return new SseFrame(fields)
}

/** True for anything that writes itself as SSE bytes (a Herald item or an `sse()` frame). */
export function isSseItem(value: unknown): value is SseItem {
  return typeof value === 'object' && value !== null && typeof (value as Partial<SseItem>).toSSE === 'function'
}

/** A plain `{ data, event?, id?, retry? }` object (no other keys), as yielded in place of `sse(…)`. */
export function isPlainSseFields(value: unknown): value is SseFields {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('data' in value)) return false
  if (Object.getPrototypeOf(value) !== Object.prototype) return false
  for (const key of Object.keys(value)) if (key !== 'data' && key !== 'event' && key !== 'id' && key !== 'retry') return false
  return true
}

/**
 * The one place wire bytes are made (tested byte for byte in test/transports/frames.test.ts).
 * Each encoder is called at most once per event, however many subscribers get it (hub/delivery.ts).
 */
import type { HubEvent, SseControlEvent, WsServerType } from '../hub/event'

const utf8 = new TextEncoder()
const LINE_BREAK = /\r\n|\r|\n/

/** `data:` lines for a payload: CR, LF and CRLF split it into several lines (WHATWG SSE). */
function dataLines(data: string): string {
  if (!data.includes('\n') && !data.includes('\r')) return `data: ${data}\n`
  let lines = ''
  for (const line of data.split(LINE_BREAK)) lines += `data: ${line}\n`
  return lines
}

/** One SSE event as text. Ids and names never hold CR, LF or NUL (validated at publish). */
export function sseText(event: HubEvent): string {
  const name = event.event ? `event: ${event.event}\n` : ''
  return `id: ${event.id}\n${name}${dataLines(event.data)}\n`
}

/** One SSE event as bytes, shared by every SSE subscriber of the event. */
export const sseFrame = (event: HubEvent): Uint8Array => utf8.encode(sseText(event))

/**
 * The first chunk of every stream: tells EventSource how long to wait before reconnecting, and,
 * with `position` (a stream that did not resume), the id it starts after: an id-only block sets
 * EventSource's last event id without dispatching an event, so a reconnect of a stream that has
 * received nothing yet still resumes from where it started instead of missing what came between.
 */
export function sseRetry(milliseconds: number, position?: string): Uint8Array {
  const id = position === undefined ? '' : `id: ${position}\n`
  return utf8.encode(`retry: ${Math.max(0, Math.round(milliseconds))}\n${id}\n`)
}

/** A comment line: ignored by EventSource, keeps proxies and load balancers from closing the stream. */
export const SSE_KEEP_ALIVE: Uint8Array = utf8.encode(': keep-alive\n\n')

/**
 * Sent first when a resume position cannot be served: the client should reload its state. Its id
 * is the hub's head at that moment, so the browser's next reconnect resumes from there.
 */
export function sseReset(head: string, lastEventId: string | undefined): Uint8Array {
  const data = JSON.stringify({ lastEventId: lastEventId ?? null, head })
  return utf8.encode(`id: ${head}\nevent: reset\ndata: ${data}\n\n`)
}

/**
 * The last chunk of a stream the server ends on purpose. It carries no id, so the browser keeps the
 * last event id it saw and resumes from exactly there when it reconnects.
 */
export function sseClosing(reason: Exclude<SseControlEvent, 'reset'>, retryMs: number): Uint8Array {
  return utf8.encode(`retry: ${retryMs}\nevent: ${reason}\ndata: ${JSON.stringify({ reason })}\n\n`)
}

/** Joins a batch into one chunk so a subscriber gets one write per wake-up, not one per event. */
export function concatFrames(frames: readonly Uint8Array[]): Uint8Array {
  if (frames.length === 1) return frames[0] as Uint8Array
  let length = 0
  for (const frame of frames) length += frame.byteLength
  const joined = new Uint8Array(length)
  let offset = 0
  for (const frame of frames) {
    joined.set(frame, offset)
    offset += frame.byteLength
  }
  return joined
}

/** One event as a WebSocket `event` message (JSON text); JSON payloads are embedded as JSON. */
export function wsEventFrame(event: HubEvent): string {
  const name = event.event ? `,"event":${JSON.stringify(event.event)}` : ''
  const data = event.json ? event.data : JSON.stringify(event.data)
  return `{"type":"event","topic":${JSON.stringify(event.topic)},"id":"${event.id}"${name},"data":${data}}`
}

/** Any other server → client WebSocket message; its type must be one of WS_SERVER_TYPES (reserved as event names). */
export function wsMessage(message: { type: WsServerType } & Record<string, unknown>): string {
  return JSON.stringify(message)
}

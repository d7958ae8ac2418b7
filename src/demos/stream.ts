import { sse } from 'elysia'
import { sseRetry } from '../transports/frames'
import { sleep, type StreamGauge } from './sleep'

/** What a built-in stream yields: raw bytes (the opening `retry:` line) or an Elysia `sse()` event. */
export type StreamChunk = Uint8Array | { toSSE(): string }

/** What every built-in stream is given when a client connects. */
export interface StreamContext {
  /** The request's signal: every wait must also end on it (see `sleep`). */
  signal: AbortSignal
  /** Counts this stream's timers and the stream itself while it runs. */
  gauge: StreamGauge
  /** The `retry:` hint sent first, in milliseconds. */
  retryMs: number
}

/** One event's fields; `data` must be a single line. */
export interface StreamEvent {
  data: string
  event?: string
  id?: number
}

/**
 * One SSE event, made with Elysia's `sse()`. Elysia writes `data` raw, so a line break in it would
 * end the event early (DESIGN §5); built-in streams only send one-line data (plain words, numbers,
 * JSON.stringify output), and this throws rather than send a broken frame.
 */
export function sseEvent(fields: StreamEvent): StreamChunk {
  if (/[\r\n]/.test(fields.data)) throw new Error(`a built-in stream tried to send data with a line break: ${JSON.stringify(fields.data)}`)
  // sse() adds `toSSE` at run time (Elysia 1.4.30), but its declared type is just the payload.
  return sse({ ...fields }) as unknown as StreamChunk
}

/**
 * Wraps a stream's events: sends `retry:` at once (Elysia sends the headers with the first chunk),
 * counts the stream in `gauge.streams` until it is finalized, and passes `return()` on to `body`.
 */
export async function* stream(context: StreamContext, body: AsyncGenerator<StreamChunk>): AsyncGenerator<StreamChunk> {
  context.gauge.streams++
  try {
    yield sseRetry(context.retryMs)
    yield* body
  } finally {
    context.gauge.streams--
  }
}

/**
 * Yields `first`, `first + 1`, … : the first at once, then one every `intervalMs` on a fixed
 * schedule (a slow client does not make it drift), until the client goes away. Every wait ends
 * on `context.signal`, so a disconnect finalizes the generator instead of leaving it parked.
 */
export async function* ticks(context: StreamContext, intervalMs: number, first = 0): AsyncGenerator<number> {
  const start = performance.now()
  for (let n = 0; !context.signal.aborted; n++) {
    yield first + n
    await sleep(Math.max(0, start + (n + 1) * intervalMs - performance.now()), context.signal, context.gauge)
  }
}

import { type StreamChunk, type StreamContext, sseEvent, stream, ticks } from './stream'

/** Milliseconds between clock events. */
export const CLOCK_INTERVAL_MS = 1000

/**
 * The count since the client connected: `0` at once, then `1`, `2`, … every `intervalMs`.
 * No ids: a reconnecting client starts again from 0.
 */
export function clock(context: StreamContext, intervalMs: number = CLOCK_INTERVAL_MS): AsyncGenerator<StreamChunk> {
  return stream(context, count(context, intervalMs))
}

async function* count(context: StreamContext, intervalMs: number): AsyncGenerator<StreamChunk> {
  for await (const n of ticks(context, intervalMs)) yield sseEvent({ data: String(n) })
}

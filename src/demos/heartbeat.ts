import { type StreamChunk, type StreamContext, sseEvent, stream, ticks } from './stream'

/** The heartbeat's `?interval=` in milliseconds: its default and the bounds a request may ask for. */
export const HEARTBEAT_INTERVAL = { default: 2000, min: 100, max: 60_000 } as const

/** `Hello!` at once and then every `intervalMs`, as unnamed events without ids, until the client leaves. */
export function heartbeat(context: StreamContext, intervalMs: number): AsyncGenerator<StreamChunk> {
  return stream(context, beats(context, intervalMs))
}

async function* beats(context: StreamContext, intervalMs: number): AsyncGenerator<StreamChunk> {
  for await (const _ of ticks(context, intervalMs)) yield sseEvent({ data: 'Hello!' })
}

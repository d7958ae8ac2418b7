import { Elysia, t } from 'elysia'
import { sseRetry } from '../transports/frames'
import { SSE_HEADERS } from '../transports/sse'
import { sleep } from './sleep'

/**
 * How to write a stream of your own: an `async function*` that yields SSE chunks. Elysia writes
 * each yield to the client. Every wait goes through `sleep(ms, signal)`, which ends early when the
 * client disconnects; then the loop sees `signal.aborted` and returns, and `finally` runs. Without
 * the signal a generator parked on a timer would never be finalized (Bun 1.4 does not resume it).
 */
export async function* countdown(from: number, intervalMs: number, signal: AbortSignal): AsyncGenerator<Uint8Array | { toSSE(): string }> {
  yield sseRetry(3000)
  for (let n = from; n > 0 && !signal.aborted; n--) {
    yield { toSSE: () => `event: tick\ndata: ${n}\n\n` }
    await sleep(intervalMs, signal)
  }
  if (!signal.aborted) yield { toSSE: () => 'event: done\ndata: liftoff\n\n' }
}

/** `GET /streams/countdown?from=5&interval=1000`: the example stream above. */
export function exampleStreams() {
  return new Elysia({ name: 'herald-streams' }).get(
    '/streams/countdown',
    function ({ query, request, server, set }) {
      server?.timeout(request, 0)
      Object.assign(set.headers, SSE_HEADERS)
      return countdown(query.from, query.interval, request.signal)
    },
    {
      query: t.Object({
        from: t.Integer({ minimum: 1, maximum: 1000, default: 5 }),
        interval: t.Integer({ minimum: 10, maximum: 60_000, default: 1000, description: 'milliseconds between ticks' }),
      }),
      detail: { tags: ['Subscribe'], summary: 'Example generator stream: counts down, then ends' },
    },
  )
}

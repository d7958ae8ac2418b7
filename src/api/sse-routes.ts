import type { Server } from 'bun'
import { SSE_KEEP_ALIVE, sseRetry } from '../transports/frames'
import { isPlainSseFields, isSseItem, SseFrame, type SseItem } from './sse-items'

/** Subscriptions created while a generator route runs its first step (see `framed`). */
let created: object[] | undefined

/** Called by every `herald.subscribe()`: lets a generator route be recognized as a Herald stream. */
export function noteSubscription(subscription: object): void {
  created?.push(subscription)
}

/** A chunk written as it is (the opening `retry:`, keep-alive comments). */
class RawChunk implements SseItem {
  constructor(private readonly bytes: Uint8Array) {}
  get sse(): true {
    return true
  }
  toSSE(): Uint8Array {
    return this.bytes
  }
}

function isAsyncGenerator(value: unknown): value is AsyncGenerator<unknown, unknown, unknown> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncGenerator).next === 'function' && Symbol.asyncIterator in value
}

/** Timings of the SSE streams of generator routes (the `retryMs` and `keepAliveMs` settings). */
export interface SseRouteOptions {
  retryMs: number
  keepAliveMs: number
}

const QUIET = Symbol('quiet')

/** The next value of `pending`, or QUIET if `ms` pass first (0 = wait as long as it takes). */
function withinQuiet<T>(pending: Promise<T>, ms: number): Promise<T | typeof QUIET> {
  if (ms <= 0) return pending
  let timer: ReturnType<typeof setTimeout> | undefined
  const quiet = new Promise<typeof QUIET>((resolve) => (timer = setTimeout(resolve, ms, QUIET)))
  return Promise.race([pending, quiet]).finally(() => clearTimeout(timer))
}

/**
 * A generator route's stream, as written. If its first step subscribes to Herald
 * (`herald.subscribe(…)` before any `await`), it is a Herald SSE stream: it starts at once with
 * Herald's `retry:` line (Elysia sends no headers before the first value, and a quiet topic would
 * otherwise leave the client waiting), gets a keep-alive comment whenever it is quiet for
 * `keepAliveMs`, is exempt from Bun's idle timeout, and plain `{ data, event, id }` objects it
 * yields are written as SSE events, data split on line breaks (Elysia would write them as one
 * line of JSON). The same holds when the first value is a Herald item or `sse(…)`. Any other
 * stream passes through unchanged, value for value.
 */
async function* framed(source: AsyncGenerator<unknown, unknown, unknown>, options: SseRouteOptions, request: Request, server: Server<unknown> | null | undefined): AsyncGenerator<unknown, unknown, unknown> {
  created = []
  let subscribed = false
  let pending: Promise<IteratorResult<unknown, unknown>>
  try {
    // Runs the route's code up to its first `await`.
    pending = source.next()
  } finally {
    subscribed = created.length > 0
    created = undefined
  }
  let sse = subscribed
  if (subscribed) {
    server?.timeout(request, 0)
    yield new RawChunk(sseRetry(options.retryMs))
  }
  try {
    for (let first = !subscribed; ; first = false) {
      const result = sse ? await withinQuiet(pending, options.keepAliveMs) : await pending
      if (result === QUIET) {
        yield new RawChunk(SSE_KEEP_ALIVE)
        continue
      }
      if (result.done) return result.value
      if (first) sse = isSseItem(result.value)
      yield sse && isPlainSseFields(result.value) ? new SseFrame(result.value) : result.value
      pending = source.next()
    }
  } finally {
    await source.return(undefined)
  }
}

/**
 * For an `afterHandle` hook on the routes after `.use(herald())`: wraps a generator route's stream
 * (see `framed`); undefined (Elysia keeps the response as it is) for anything else.
 */
export function frameSseGenerator(response: unknown, options: SseRouteOptions, request: Request, server: Server<unknown> | null | undefined): AsyncGenerator<unknown, unknown, unknown> | undefined {
  if (!isAsyncGenerator(response)) return undefined
  return framed(response, options, request, server)
}

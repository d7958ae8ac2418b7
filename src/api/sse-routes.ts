import { isPlainSseFields, isSseItem, SseFrame } from './sse-items'

/** Streams Herald made itself (GET /events): already SSE bytes, never wrapped. */
const OWN_STREAMS = new WeakSet<object>()

/** Marks a stream of Herald's own routes, so `frameSseGenerator` leaves it alone (it is on the hot path). */
export function ownStream<T extends object>(stream: T): T {
  OWN_STREAMS.add(stream)
  return stream
}

function isAsyncGenerator(value: unknown): value is AsyncGenerator<unknown, unknown, unknown> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncGenerator).next === 'function' && Symbol.asyncIterator in value
}

/**
 * Elysia would write a plain `{ data, event, id }` yielded by a generator route as one line of
 * JSON (`data: {"data":…}`). In a stream whose FIRST value is a Herald item (an event from
 * `herald.subscribe`, a reset, or `sse(…)`), such objects are written as SSE events instead, data
 * split on line breaks. Any other stream passes through unchanged, value for value.
 */
async function* framed(source: AsyncGenerator<unknown, unknown, unknown>): AsyncGenerator<unknown, unknown, unknown> {
  let first = true
  let sse = false
  try {
    for (;;) {
      const { value, done } = await source.next()
      if (done) return value
      if (first) {
        sse = isSseItem(value)
        first = false
      }
      yield sse && isPlainSseFields(value) ? new SseFrame(value) : value
    }
  } finally {
    await source.return(undefined)
  }
}

/**
 * For an `afterHandle` hook on the routes after `.use(herald())`: wraps a generator route's stream
 * (see `framed`); undefined (Elysia keeps the response as it is) for anything else.
 */
export function frameSseGenerator(response: unknown): AsyncGenerator<unknown, unknown, unknown> | undefined {
  if (!isAsyncGenerator(response) || OWN_STREAMS.has(response)) return undefined
  return framed(response)
}

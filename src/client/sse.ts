/**
 * A subscription over Server-Sent Events: `GET {base}/events?topic=…&lastEventId=…` read with
 * `fetch` (not EventSource: it can send the resume position on the first connect, read the JSON
 * body of a refusal, stop reading while the app's loop is busy, and runs in Bun as in browsers).
 */
import type { SseControlEvent } from '../hub/event'
import { Backoff } from './backoff'
import { asHeraldError, HeraldError, responseError, retryable } from './errors'
import type { Feed } from './feed'
import { isEventId, PROBE_ID } from './ids'
import { bearer } from './publish'
import type { Settings } from './settings'
import { type SseBlock, SseParser } from './sse-parser'
import type { HeraldErrorCode } from './types'

const RESET: SseControlEvent = 'reset'
/** The stream's token expired: it ends right after this, and the client resumes with a fresh token. */
const EXPIRED = 'token_expired' satisfies SseControlEvent & HeraldErrorCode
/** The server's closing notices: the stream ends right after them, and the client resumes. */
const CLOSING: readonly string[] = ['overflow', 'shutdown', EXPIRED] satisfies SseControlEvent[]

/** SSE data is text: the JSON value it holds, else the text itself (see HeraldEvent.data). */
function parseData(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function deliver(feed: Feed, block: SseBlock, topic: string | undefined): void {
  if (block.event === RESET) {
    let body: { lastEventId?: unknown; head?: unknown } | undefined
    try {
      body = JSON.parse(block.data)
    } catch {}
    if (isEventId(body?.head)) feed.reset(typeof body.lastEventId === 'string' ? body.lastEventId : null, body.head)
  } else if (!CLOSING.includes(block.event) && isEventId(block.id)) {
    feed.event({ type: 'event', topic: block.topic ?? topic, id: block.id, event: block.event, data: parseData(block.data), text: block.data })
  }
}

/**
 * Reads one stream into the feed until it ends; stops reading while the feed is full. Returns the
 * server's `retry:` hint, or -1 when the stream ended because its token expired.
 */
async function read(body: ReadableStream<Uint8Array>, feed: Feed, settings: Settings, attempt: AbortController, topic: string | undefined): Promise<number> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let expired = false
  const parser = new SseParser(settings.maxEventSize, (block) => {
    expired ||= block.event === EXPIRED
    deliver(feed, block, topic)
  })
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    for (;;) {
      clearTimeout(timer)
      if (settings.idleTimeoutMs > 0) timer = setTimeout(() => attempt.abort(new HeraldError('network_error', `no data for ${settings.idleTimeoutMs} ms`)), settings.idleTimeoutMs)
      const { done, value } = await reader.read()
      if (done || feed.done) break
      parser.push(decoder.decode(value, { stream: true }))
      // Not reading is the backpressure: the server queues, then cuts the stream, and it resumes.
      if (feed.full) {
        clearTimeout(timer)
        await feed.drained()
      }
    }
  } finally {
    clearTimeout(timer)
    reader.cancel().catch(() => {})
  }
  return expired ? -1 : (parser.retry ?? 0)
}

/**
 * Runs one SSE subscription until the feed ends: connect, read, and reconnect with backoff. With a
 * token: sent in the `Authorization` header of every connect (got afresh each time); a stream that
 * ends with `token_expired` reconnects at once with a fresh token, and a connect refused with `401
 * token_expired` is tried once more so before it fails like any 401.
 */
export async function sseSubscription(feed: Feed, settings: Settings): Promise<void> {
  const backoff = new Backoff(settings.backoff)
  const { signal } = feed.ended
  const [first] = feed.selectors
  // The stream does not name each event's topic; with one concrete topic there is only one.
  const topic = feed.selectors.length === 1 && !first?.split('/').some((segment) => segment === '*' || segment === '**') ? first : undefined
  let hint = 0
  /** Connects in a row refused with an expired token. */
  let expiries = 0
  while (!signal.aborted) {
    const attempt = new AbortController()
    const stop = () => attempt.abort()
    signal.addEventListener('abort', stop)
    let error: HeraldError
    const from = feed.resumeFrom()
    try {
      const query = feed.selectors.map((selector) => `topic=${encodeURIComponent(selector)}`)
      if (from) query.push(`lastEventId=${from}`)
      const headers = { accept: 'text/event-stream', ...bearer(await settings.token?.()) }
      const response = await fetch(`${settings.base}/events?${query.join('&')}`, { headers, cache: 'no-store', signal: attempt.signal })
      // 204 is how a server tells EventSource to stop reconnecting.
      if (response.status === 204) return feed.end()
      if (!response.ok) throw await responseError(response)
      if (!response.body || !/^text\/event-stream\b/i.test(response.headers.get('content-type') ?? '')) {
        throw new HeraldError('bad_response', `${settings.base}/events did not answer with an event stream`, response.status)
      }
      backoff.opened()
      expiries = 0
      feed.opened()
      hint = Math.min(await read(response.body, feed, settings, attempt, topic), settings.backoff.maxMs)
      error = new HeraldError(hint < 0 && settings.token ? EXPIRED : 'network_error', 'the event stream ended')
    } catch (caught) {
      if (signal.aborted) return
      error = asHeraldError(attempt.signal.reason instanceof HeraldError ? attempt.signal.reason : caught)
      if (from === PROBE_ID && error.code === 'invalid_last_event_id') {
        feed.noProbe = true
        continue
      }
    } finally {
      signal.removeEventListener('abort', stop)
      attempt.abort()
    }
    // A fresh token, at once (the stream resumes from its position, so nothing is lost meanwhile);
    // refused as expired at connect (status 401), only once more.
    if (error.code === EXPIRED && settings.token && (!error.status || ++expiries < 2)) continue
    if (!retryable(error)) return feed.fail(error)
    const delayMs = backoff.next(hint)
    feed.retrying({ attempt: backoff.attempt, delayMs, error })
    await settings.backoff.sleep(delayMs, signal)
  }
}

/**
 * The client against a malicious server (a small Bun.serve in the test), generated from a seed:
 * garbage SSE and WebSocket frames, bad and out-of-order ids, forged resets, junk error bodies,
 * wrong statuses and content types, endless lines, floods, and servers that accept and drop every
 * connection. Whatever it sends, the client throws nothing uncaught, yields only well-formed items
 * in id order, keeps its memory bounded, and never reconnects faster than its backoff schedule.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import type { Server, ServerWebSocket } from 'bun'
import { connect, type HeraldItem, HeraldError, type RetryInfo, type Transport } from '../../src/client/index'
import { isEventId, isNewer } from '../../src/client/ids'
import { waitFor } from '../helpers'
import { collect } from '../client/collect'
import { INJECTIONS, Rng, SEED } from './prng'

const CASES = 150
const MAX_EVENT = 16 * 1024
/** Retries are recorded, not waited for; the clock never moves, so no connection ever counts as healthy. */
const backoff = (delays: number[]) => ({ jitter: 0, initialMs: 100, maxMs: 5000, now: () => 0, sleep: async (ms: number) => void delays.push(ms) })

/** The schedule's delay for an attempt: the client may wait longer (a retry: hint), never less. */
const scheduled = (attempt: number) => Math.min(5000, 100 * 2 ** (attempt - 1))

/** A plausible or broken id. */
function anyId(rng: Rng, counter: { n: number }): string {
  switch (rng.int(0, 6)) {
    case 0:
      return rng.pick(['', '1', '01-0', '-1-0', '1-0-0', 'abc', '9007199254740992-0', '1.5-0', ' 1-0', '1-0\0', 'x'.repeat(300)])
    case 1:
      return `${rng.int(0, 5)}-${rng.int(0, 5)}` // old, out of order
    default:
      return `${1_700_000_000_000 + ++counter.n}-${rng.int(0, 3)}`
  }
}

/** One generated SSE block (or garbage in place of one). */
function sseBlock(rng: Rng, counter: { n: number }): string {
  const line = () => rng.pick(['data: x', 'data', 'data:', `id: ${anyId(rng, counter)}`, `event: ${rng.pick(['message', 'reset', 'overflow', 'shutdown', 'chat', '', 'x'.repeat(100)])}`, `retry: ${rng.pick(['0', '-5', '99999999999999999999', 'abc', '3000'])}`, `topic: ${rng.pick(['a', '', '*', 'x'.repeat(300)])}`, ': comment', rng.string(rng.int(0, 40), 'ab:\0\r\n é🎉'), rng.pick(INJECTIONS)])
  switch (rng.int(0, 7)) {
    case 0:
      return Array.from({ length: rng.int(1, 6) }, line).join(rng.pick(['\n', '\r', '\r\n']))
    case 1: {
      const data = rng.pick(['{}', 'null', '[]', '{"head":5}', `{"head":"${anyId(rng, counter)}","lastEventId":${rng.pick(['null', '7', '"1-0"', '{}'])}}`, 'not json', '{"head":'])
      return `id: ${anyId(rng, counter)}\nevent: reset\ndata: ${data}\n\n`
    }
    case 2:
      return `data: ${'y'.repeat(rng.int(MAX_EVENT - 100, MAX_EVENT + 100))}\n\n`
    case 3:
      return String.fromCharCode(...Array.from({ length: rng.int(1, 200) }, () => rng.int(0, 0xffff)))
    default: {
      const payload = rng.pick(['hello', '42', '{"a":[1,2]}', 'multi\nline', '', '"quoted"', 'line\r\nbreak'])
      return `id: ${anyId(rng, counter)}\n${rng.chance(0.3) ? `event: ${rng.pick(['chat', 'x.y:z'])}\n` : ''}${payload
        .split(/\r\n|\r|\n/)
        .map((part) => `data: ${part}`)
        .join('\n')}\n\n`
    }
  }
}

/** One generated answer to `GET /events`: a wrong status, a wrong type, or a stream of generated blocks (cut anywhere). */
function sseResponse(rng: Rng, counter: { n: number }): Response {
  const encoder = new TextEncoder()
  const status = rng.pick([200, 200, 200, 200, 200, 200, 204, 400, 404, 409, 429, 500, 502, 503])
  if (status !== 200) {
    const body = rng.pick([
      '',
      'garbage',
      JSON.stringify({ error: { code: rng.pick(['too_many_connections', 'invalid_selector', 'made_up', 7]), message: rng.pick(['m', 5]) } }),
      JSON.stringify({ error: null }),
      'x'.repeat(rng.int(100_000, 300_000)),
    ])
    return new Response(status === 204 ? null : body, { status })
  }
  const type = rng.pick(['text/event-stream', 'text/event-stream; charset=utf-8', 'TEXT/EVENT-STREAM', 'text/html', 'application/json'])
  const chunks: Uint8Array[] = []
  let text = ''
  for (let i = rng.int(0, 30); i > 0; i--) text += sseBlock(rng, counter) + (rng.chance(0.7) ? '\n\n' : '')
  const bytes = encoder.encode(text)
  // Chunk boundaries anywhere, mid-character included.
  for (let at = 0; at < bytes.length; ) {
    const size = rng.int(1, 2000)
    chunks.push(bytes.subarray(at, at + size))
    at += size
  }
  if (rng.chance(0.1)) chunks.push(new Uint8Array(rng.bytes(rng.int(1, 500))))
  return new Response(new ReadableStream({ pull: (controller) => (chunks.length ? controller.enqueue(chunks.shift()) : controller.close()) }), { headers: { 'content-type': type } })
}

/** Waits until `condition` holds or `ms` pass, whichever is first (a quiet hostile server is allowed). */
async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition() && Date.now() < deadline) await Bun.sleep(5)
}

/** What every subscription must have yielded: well-formed items, ids increasing between resets. */
function checkItems(items: HeraldItem[], maxText = Number.POSITIVE_INFINITY): void {
  let last: string | undefined
  for (const item of items) {
    if (item.type === 'reset') {
      expect(isEventId(item.head)).toBe(true)
      expect(item.lastEventId === null || typeof item.lastEventId === 'string').toBe(true)
      last = item.head
      continue
    }
    expect(item.type).toBe('event')
    expect(isEventId(item.id)).toBe(true)
    expect(isNewer(item.id, last)).toBe(true)
    expect(typeof item.event).toBe('string')
    expect(typeof item.text).toBe('string')
    expect(item.text.length).toBeLessThanOrEqual(maxText)
    last = item.id
  }
}

/** Retries follow the schedule: attempts count up by one, each delay at least the schedule's. */
function checkSchedule(retries: RetryInfo[]): void {
  retries.forEach((retry, index) => {
    expect(retry.attempt).toBe(index + 1)
    expect(retry.delayMs).toBeGreaterThanOrEqual(scheduled(retry.attempt))
    expect(retry.delayMs).toBeLessThanOrEqual(5000)
    expect(retry.error).toBeInstanceOf(HeraldError)
  })
}

let server: Server<unknown> | undefined
afterEach(() => {
  server?.stop(true)
  server = undefined
})

test(`SSE: ${CASES} generated answers (statuses, types, garbage blocks, forged resets, long events, cuts)`, async () => {
  const rng = new Rng(SEED)
  const counter = { n: 0 }
  let served = 0
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch() {
      served++
      return sseResponse(rng, counter)
    },
  })
  const delays: number[] = []
  const herald = connect({ url: `http://127.0.0.1:${server.port}`, transport: 'sse', backoff: backoff(delays), maxEventSize: MAX_EVENT })
  const endings: string[] = []
  while (served < CASES) {
    const sub = collect(herald, rng.pick([['a'], ['a/*', 'b'], ['**/x'.slice(3)]]))
    await until(() => sub.ended || served >= CASES, 2000)
    sub.stop()
    await sub.done
    checkItems(sub.items, MAX_EVENT)
    checkSchedule(sub.retries)
    if (sub.error) {
      // Only what waiting cannot fix ends a subscription: a 4xx, or an event over maxEventSize.
      expect(sub.error).toBeInstanceOf(HeraldError)
      const { code, status } = sub.error as HeraldError
      expect(status >= 400 && status < 500 && status !== 429 ? 'final status' : code).toBeOneOf(['final status', 'payload_too_large'])
      endings.push(status ? `${status}` : code)
    }
  }
  // The family reached every kind of ending.
  expect(endings.length).toBeGreaterThan(5)
  expect(endings).toContain('payload_too_large')
})

test('SSE: an endless line is refused after maxEventSize, not buffered', async () => {
  let sent = 0
  const chunk = new TextEncoder().encode('x'.repeat(64 * 1024))
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: () =>
      new Response(
        new ReadableStream({
          start: (controller) => controller.enqueue(new TextEncoder().encode('data: ')),
          pull: (controller) => {
            sent += chunk.byteLength
            controller.enqueue(chunk)
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      ),
  })
  const herald = connect({ url: `http://127.0.0.1:${server.port}`, transport: 'sse', maxEventSize: 1 << 20 })
  const sub = collect(herald, 'a')
  await sub.done
  expect((sub.error as HeraldError).code).toBe('payload_too_large')
  // What it read before refusing: the limit, plus what TCP and the stream buffered meanwhile.
  expect(sent).toBeLessThan(16 << 20)
})

describe.each(['sse', 'ws'] as Transport[])('%s: a loop that stops reading while the server floods', (transport) => {
  test('the client holds at most its buffer; the rest waits on the server (or is refused by the client)', async () => {
    let produced = 0
    const frame = (n: number) => JSON.stringify({ type: 'event', topic: 'flood', id: `1700000000000-${n}`, data: 'z'.repeat(1000) })
    server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch(request, bunServer) {
        if (bunServer.upgrade(request, { data: undefined })) return undefined
        let n = 0
        return new Response(
          new ReadableStream({
            pull(controller) {
              for (let i = 0; i < 100; i++) controller.enqueue(new TextEncoder().encode(`id: 1700000000000-${++n}\ndata: ${'z'.repeat(1000)}\n\n`))
              produced += 100
            },
          }),
          { headers: { 'content-type': 'text/event-stream' } },
        )
      },
      websocket: {
        message(socket: ServerWebSocket<unknown>, raw) {
          const { ref } = JSON.parse(String(raw)) as { ref?: number }
          if (ref === undefined) return
          socket.send(JSON.stringify({ type: 'subscribed', topics: ['flood'], ref }))
          // Ignores unsubscribe, as a hostile server would: the client must drop what it did not ask for.
          for (let n = 1; n <= 20_000; n++) socket.send(frame(n))
          produced += 20_000
        },
      },
    })
    Bun.gc(true)
    const heapBefore = process.memoryUsage().heapUsed
    const herald = connect({ url: `http://127.0.0.1:${server.port}`, transport, bufferSize: 1 << 20 })
    let release = () => {}
    const stuck = new Promise<void>((resolve) => (release = resolve))
    const sub = collect(herald, 'flood', { slow: () => stuck })
    await waitFor(() => produced >= (transport === 'ws' ? 20_000 : 2000), 'the flood')
    await Bun.sleep(300)
    Bun.gc(true)
    const grown = process.memoryUsage().heapUsed - heapBefore
    // 20 MB was sent (or offered); the client kept about its 1M-character buffer.
    expect(grown).toBeLessThan(12 << 20)
    if (transport === 'sse') expect(produced).toBeLessThan(20_000)
    release()
    sub.stop()
    await sub.done
  }, 20_000)
})

/** One generated WebSocket message from a hostile server, given the ref of the client's last subscribe. */
function wsMessage(rng: Rng, ref: unknown, counter: { n: number }): string | Uint8Array {
  switch (rng.int(0, 9)) {
    case 0:
      return rng.pick(['', 'not json', 'null', '[]', '7', '"event"', '{"type":', '{}'])
    case 1:
      return new Uint8Array(rng.bytes(rng.int(1, 100)))
    case 2:
      return JSON.stringify({ type: 'reset', ref: rng.pick([ref, 999, 'x']), head: anyId(rng, counter), lastEventId: rng.pick([null, 5, 'a']) })
    case 3:
      return JSON.stringify({ type: 'error', ref: rng.pick([ref, undefined, 'x']), code: rng.pick(['rate_limited', 'invalid_selector', 'made_up', 5, null]), message: rng.pick(['m', {}]) })
    case 4:
      return JSON.stringify({ type: rng.pick(['subscribed', 'pong', 'published', 'unsubscribed', 'EVENT', '__proto__']), ref: rng.pick([ref, 3, null]) })
    case 5:
      return JSON.stringify({ type: 'event', topic: rng.pick(['a', 'b', 5, null, 'x'.repeat(300)]), id: anyId(rng, counter), data: rng.pick([undefined, null, 'x', { deep: [1] }, 'y'.repeat(rng.int(1, 20_000))]), event: rng.pick([undefined, 'chat', 5, {}]) })
    default:
      return JSON.stringify({ type: 'event', topic: 'a', id: anyId(rng, counter), data: rng.pick(['hi', 42, { a: 1 }, ['x'], '']), ...(rng.chance(0.3) && { event: 'chat' }) })
  }
}

test(`WebSocket: ${CASES} generated sessions (garbage frames, forged acks, resets and errors, random closes)`, async () => {
  const rng = new Rng(SEED + 1)
  const counter = { n: 0 }
  let sessions = 0
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: (request, bunServer) => (rng.chance(0.1) ? new Response('nope', { status: rng.pick([400, 503]) }) : bunServer.upgrade(request, { data: undefined }) ? undefined : new Response('x', { status: 400 })),
    websocket: {
      open(socket) {
        sessions++
        if (rng.chance(0.15)) socket.close(rng.pick([1000, 1001, 1011, 1013, 4000]), 'bye')
      },
      message(socket, raw) {
        let ref: unknown
        try {
          ref = (JSON.parse(String(raw)) as { ref?: unknown }).ref
        } catch {}
        if (ref === undefined) return
        if (rng.chance(0.8)) socket.send(JSON.stringify({ type: 'subscribed', ref }))
        for (let i = rng.int(0, 40); i > 0; i--) socket.send(wsMessage(rng, ref, counter))
        if (rng.chance(0.7)) socket.close(rng.pick([1000, 1001, 1011, 1013, 4000]), 'bye')
      },
    },
  })
  const delays: number[] = []
  const herald = connect({ url: `http://127.0.0.1:${server.port}`, transport: 'ws', backoff: backoff(delays), idleTimeoutMs: 0 })
  while (sessions < CASES) {
    const sub = collect(herald, rng.pick([['a'], ['a', 'b'], ['*']]))
    await until(() => sub.ended || sessions >= CASES || sub.retries.length > 30, 200)
    sub.stop()
    await sub.done
    checkItems(sub.items)
    checkSchedule(sub.retries.filter((retry) => retry.error.code === 'network_error'))
    if (sub.error) expect(sub.error).toBeInstanceOf(HeraldError)
  }
})

test('a server that accepts and drops every connection is tried at the slowing pace, over both transports', async () => {
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: (request, bunServer) => (bunServer.upgrade(request, { data: undefined }) ? undefined : new Response('', { headers: { 'content-type': 'text/event-stream' } })),
    websocket: { open: (socket) => socket.close(1013, 'again'), message() {} },
  })
  for (const transport of ['sse', 'ws'] as Transport[]) {
    const delays: number[] = []
    const herald = connect({ url: `http://127.0.0.1:${server.port}`, transport, backoff: backoff(delays) })
    const sub = collect(herald, 'a')
    await waitFor(() => sub.retries.length >= 12, 'twelve reconnects')
    sub.stop()
    await sub.done
    checkSchedule(sub.retries)
    expect(sub.retries.slice(0, 8).map((retry) => retry.delayMs)).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000])
  }
})

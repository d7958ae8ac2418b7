import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { herald, sse } from '../../src/index'
import { SseClient, waitFor, WsClient } from '../helpers'

/** A host app with routes, errors, CORS and a generator route of its own, and Herald at /rt. */
function hostApp(options: Parameters<typeof herald>[0] = {}) {
  let finalized = 0
  const realtime = herald({ prefix: '/rt', corsOrigins: ['https://app.example'], ...options })
  const app = new Elysia()
    .onError(({ code, set }) => {
      if (code === 'NOT_FOUND') return
      set.status = 418
      return `host error: ${String(code)}`
    })
    .onRequest(({ set }) => {
      set.headers['x-host'] = 'yes'
    })
    .use(realtime)
    .get('/hello', () => 'hello from the host')
    .get('/boom', () => {
      throw new Error('host failure')
    })
    .get('/orders/:id/live', async function* ({ herald, params, request }) {
      try {
        for await (const event of herald.subscribe(`orders/${params.id}`, { signal: request.signal, lastEventId: request.headers.get('last-event-id') ?? undefined })) {
          yield event
        }
      } finally {
        finalized++
      }
    })
    .get('/orders/:id/mixed', async function* ({ herald, params, request }) {
      yield sse({ data: 'start', event: 'hello' })
      for await (const event of herald.subscribe(`orders/${params.id}`, { request })) {
        if (event.type !== 'event') continue
        yield { data: `got\n${String(event.text)}`, event: 'echo', id: event.id }
      }
    })
    .get('/orders/:id/stream', ({ herald, params, request }) => herald.stream(`orders/${params.id}`, { request }))
    .get('/json-lines', async function* () {
      yield { a: 1 }
      yield { data: 'not sse' }
    })
    .post('/orders/:id/ship', ({ herald, params }) => herald.publish(`orders/${params.id}`, { status: 'shipped' }, { event: 'shipped' }))
    .listen({ port: 0, hostname: '127.0.0.1' })
  const base = `http://127.0.0.1:${app.server?.port}`
  return { app, realtime, base, finalizedCount: () => finalized }
}

let host: ReturnType<typeof hostApp>
beforeAll(() => {
  host = hostApp()
})
afterAll(() => host.app.stop(true))

describe('Herald inside a host app', () => {
  test("the host's routes, errors, 404s and hooks are its own", async () => {
    expect(await (await fetch(`${host.base}/hello`)).text()).toBe('hello from the host')
    const boom = await fetch(`${host.base}/boom`)
    expect(boom.status).toBe(418)
    expect(await boom.text()).toBe('host error: UNKNOWN')
    const missing = await fetch(`${host.base}/no-such-page`)
    expect(missing.status).toBe(404)
    expect(await missing.text()).toBe('NOT_FOUND')
    // No Herald CORS on a host route, even from an origin Herald allows.
    const cross = await fetch(`${host.base}/hello`, { headers: { origin: 'https://app.example' } })
    expect(cross.headers.get('access-control-allow-origin')).toBeNull()
  })

  test("Herald's routes live under the prefix, with Herald's JSON errors and CORS", async () => {
    const health = await fetch(`${host.base}/rt/healthz`)
    expect(((await health.json()) as { status: string }).status).toBe('ok')
    const bad = await fetch(`${host.base}/rt/topics/a%2F%2Fb`, { method: 'POST', body: '{"data":1}', headers: { 'content-type': 'application/json', origin: 'https://app.example' } })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_topic')
    expect(bad.headers.get('access-control-allow-origin')).toBe('https://app.example')
    const wrong = await fetch(`${host.base}/rt/topics/news`)
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get('allow')).toBe('POST')
    const preflight = await fetch(`${host.base}/rt/publish`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST')
    // The browser client is served under the prefix, for the host's own pages.
    const client = await fetch(`${host.base}/rt/client/herald.js`)
    expect(client.headers.get('content-type')).toContain('javascript')
    expect(await client.text()).toContain('connect')
    // The host's own hook still runs on Herald's routes: Herald does not hide the app from itself.
    expect(health.headers.get('x-host')).toBe('yes')
  })

  test('a generator route yields Herald events as correct SSE frames, with resume', async () => {
    const stream = await SseClient.open(`${host.base}/orders/7/live`)
    expect(stream.headers.get('content-type')).toStartWith('text/event-stream')
    await waitFor(() => host.realtime.herald.stats().subscriptions === 1, 'the route to subscribe')
    const first = await host.realtime.herald.publish('orders/7', 'line one\nline two\r\nline three')
    const shipped = (await (await fetch(`${host.base}/orders/7/ship`, { method: 'POST' })).json()) as { id: string; topic: string }
    expect(shipped.topic).toBe('orders/7')
    const events = await stream.waitForMessages(2)
    expect(events[0]).toEqual({ id: first.id, event: 'message', data: 'line one\nline two\nline three' })
    expect(events[1]).toEqual({ id: shipped.id, event: 'shipped', data: '{"status":"shipped"}' })
    expect(stream.raw).toContain(`id: ${first.id}\ndata: line one\ndata: line two\ndata: line three\n\n`)
    stream.close()

    const resumed = await SseClient.open(`${host.base}/orders/7/live`, { 'last-event-id': first.id })
    expect((await resumed.waitForMessages(1))[0]).toMatchObject({ id: shipped.id, event: 'shipped' })
    resumed.close()
  })

  test('a client leaving finalizes the generator and leaves no subscriber behind', async () => {
    // Streams of earlier tests finish asynchronously after they close.
    await waitFor(() => host.realtime.herald.stats().subscriptions === 0, 'earlier streams to end')
    const before = host.finalizedCount()
    const streams = await Promise.all([1, 2, 3].map(() => SseClient.open(`${host.base}/orders/8/live`)))
    await waitFor(() => host.realtime.herald.stats().subscriptions === 3, 'three subscriptions')
    for (const stream of streams) stream.close()
    await waitFor(() => host.realtime.herald.stats().subscriptions === 0 && host.finalizedCount() === before + 3, 'every generator to finish')
    expect(host.realtime.herald.stats().gauges.sseAbortListeners).toBe(0)
  })

  test('plain { data, event, id } objects after a Herald item are SSE events; other generator routes are untouched', async () => {
    const stream = await SseClient.open(`${host.base}/orders/9/mixed`)
    await waitFor(() => stream.messages.length === 1, 'the first frame')
    await waitFor(() => host.realtime.herald.stats().subscriptions === 1, 'the subscription')
    const { id } = await host.realtime.herald.publish('orders/9', 'a\nb')
    const events = await stream.waitForMessages(2)
    expect(events).toEqual([
      { event: 'hello', data: 'start' },
      { id, event: 'echo', data: 'got\na\nb' },
    ])
    stream.close()
    const lines = await fetch(`${host.base}/json-lines`)
    expect(lines.headers.get('content-type')).toBe('application/json')
    expect(await lines.text()).toBe('{"a":1}{"data":"not sse"}')
  })

  test('herald.stream() serves exactly what GET /events does, for a route of your own', async () => {
    const stream = await SseClient.open(`${host.base}/orders/10/stream`)
    await waitFor(() => stream.raw.startsWith('retry:'), 'the retry line')
    const { id } = await host.realtime.herald.publish('orders/10', { n: 1 })
    expect((await stream.waitForMessages(1))[0]).toEqual({ id, event: 'message', data: '{"n":1}' })
    stream.close()
    const refused = await fetch(`${host.base}/orders/10/stream`, { headers: { 'last-event-id': 'nope' } })
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('invalid_last_event_id')
  })

  test('WebSocket clients at /rt/ws share the topics with SSE and code', async () => {
    const ws = await WsClient.open(`${host.base.replace('http', 'ws')}/rt/ws`)
    expect((await ws.request({ type: 'subscribe', topics: ['orders/*'] })).type).toBe('subscribed')
    const { id } = await host.realtime.herald.publish('orders/11', 'to every transport')
    expect(await ws.waitFor((m) => m.type === 'event', 'the event')).toMatchObject({ id, topic: 'orders/11', data: 'to every transport' })
    ws.close()
    // Herald's slow-consumer settings were put on the root app, where Bun reads them.
    const config = (host.app as unknown as { config: { websocket: Record<string, unknown> } }).config.websocket
    expect(config).toMatchObject({ closeOnBackpressureLimit: true, backpressureLimit: 4 * 1024 ** 2 })
  })
})

describe('shutdown and mounting rules', () => {
  test("herald.shutdown() ends Herald's streams and routes, not the host's", async () => {
    const own = hostApp()
    try {
      const stream = await SseClient.open(`${own.base}/rt/events?topic=t`)
      await waitFor(() => stream.raw.startsWith('retry:'), 'the stream')
      await own.realtime.herald.shutdown(1000)
      await waitFor(() => stream.ended, 'the stream to end')
      expect(stream.raw).toContain('event: shutdown')
      const refused = await fetch(`${own.base}/rt/healthz`)
      expect(refused.status).toBe(503)
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('shutting_down')
      expect((await fetch(`${own.base}/hello`)).status).toBe(200)
    } finally {
      await own.app.stop(true)
    }
  })

  test('a second herald() in one app refuses to start, with a clear message', () => {
    const app = new Elysia().use(herald({ prefix: '/a' })).use(herald({ prefix: '/b' }))
    expect(() => app.listen({ port: 0, hostname: '127.0.0.1' })).toThrow(/mounted twice in one app/)
    app.stop(true).catch(() => {})
  })

  test('mounted inside a nested plugin, Herald refuses to start unless the root app has its WebSocket settings', async () => {
    const nested = new Elysia().use(herald({ prefix: '/rt' }))
    const bare = new Elysia().use(nested)
    expect(() => bare.listen({ port: 0, hostname: '127.0.0.1' })).toThrow(/closeOnBackpressureLimit: true.*heraldWebSocket/)
    await bare.stop(true).catch(() => {})

    const { heraldWebSocket } = await import('../../src/index')
    const configured = new Elysia({ websocket: heraldWebSocket() }).use(new Elysia().use(herald({ prefix: '/rt' }))).listen({ port: 0, hostname: '127.0.0.1' })
    try {
      expect((await fetch(`http://127.0.0.1:${configured.server?.port}/rt/healthz`)).status).toBe(200)
    } finally {
      await configured.stop(true)
    }
  })

  test("a host setting that weakens Herald's slow-consumer cut is refused by name", () => {
    const app = new Elysia({ websocket: { backpressureLimit: 64 * 1024 ** 2 } }).use(herald())
    expect(() => app.listen({ port: 0, hostname: '127.0.0.1' })).toThrow(/backpressureLimit at most 4194304/)
    app.stop(true).catch(() => {})
  })

  test('a bad prefix is refused when herald() is called', () => {
    for (const prefix of ['rt', '/rt/', '/rt/*', '/:id']) expect(() => herald({ prefix })).toThrow(/prefix/)
  })
})

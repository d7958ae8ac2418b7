import { expect, test } from 'bun:test'
import { createServer } from '../src/server'
import { SseClient, waitFor, WsClient } from './helpers'

function listen(overrides = {}) {
  const herald = createServer({ host: '127.0.0.1', port: 0, ...overrides })
  herald.app.listen({ port: 0, hostname: '127.0.0.1' })
  const base = `http://127.0.0.1:${herald.app.server?.port}`
  return { ...herald, base }
}

test('a publish in flight when shutdown begins is acknowledged and delivered before the streams end', async () => {
  const { base, shutdown } = listen()
  const sse = await SseClient.open(`${base}/events?topic=drain`)
  await waitFor(() => sse.raw.length > 0, 'the stream to start')

  // A slow client: half the body now, the rest after shutdown has begun.
  let finishBody: () => void = () => {}
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"data":"in '))
      finishBody = () => {
        controller.enqueue(new TextEncoder().encode('flight"}'))
        controller.close()
      }
    },
  })
  const inFlight = fetch(`${base}/topics/drain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  await Bun.sleep(50)
  const stopping = shutdown(5000)

  // New requests are refused while draining: a new connection is not accepted, and a request on a
  // kept-alive connection gets 503 shutting_down.
  const refused = await fetch(`${base}/topics/drain`, { method: 'POST', body: 'late', headers: { 'content-type': 'text/plain' } }).catch(() => 'connection refused')
  const outcome = typeof refused === 'string' ? refused : `${refused.status} ${((await refused.json()) as { error: { code: string } }).error.code}`
  expect(['connection refused', '503 shutting_down']).toContain(outcome)

  finishBody()
  const response = await inFlight
  expect(response.status).toBe(200)
  const { id } = (await response.json()) as { id: string }
  await stopping
  await waitFor(() => sse.ended, 'the stream to end')
  expect(sse.messages.map((e) => [e.id, e.event, e.data])).toEqual([
    [id, 'message', 'in flight'],
    [undefined, 'shutdown', '{"reason":"shutdown"}'],
  ])
})

test('shutdown is bounded: a publisher that never finishes its body does not hold it past the timeout', async () => {
  const { base, shutdown } = listen()
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"data":'))
    },
  })
  const stuck = fetch(`${base}/topics/stuck`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).catch(() => undefined)
  await Bun.sleep(50)
  const started = performance.now()
  await shutdown(300)
  expect(performance.now() - started).toBeLessThan(3000)
  await stuck
})

test('WebSocket publishes after shutdown get a shutting_down error, then the socket closes with 1001', async () => {
  const { base, shutdown, hub } = listen()
  const ws = await WsClient.open(`${base.replace('http', 'ws')}/ws`)
  await ws.request({ type: 'ping' })
  await hub.close()
  expect(await ws.request({ type: 'publish', topic: 'late', data: 1 })).toMatchObject({ type: 'error', code: 'shutting_down' })
  await shutdown(2000)
  await waitFor(() => ws.closeCode, 'the close')
  expect(ws.closeCode).toBe(1001)
})

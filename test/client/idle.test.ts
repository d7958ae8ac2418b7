/**
 * Dead connections: a server that stops sending anything (no events, no keep-alives, no pong) is
 * taken for dead after `idleTimeoutMs` and replaced; a quiet one that still answers is kept.
 */
import { afterEach, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { connect } from '../../src/client/index'
import { startServer, waitFor } from '../helpers'
import { collect } from './collect'

let server: Server<undefined> | undefined
afterEach(() => server?.stop(true))

const IDLE = 300

test('SSE: a stream that goes silent is replaced after idleTimeoutMs', async () => {
  let streams = 0
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: () => {
      streams++
      // Headers and one chunk, then nothing: a half-open connection looks like this from the client.
      return new Response(new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode('retry: 0\n\n')) }), { headers: { 'content-type': 'text/event-stream' } })
    },
  })
  const herald = connect({ url: `http://127.0.0.1:${server.port}`, transport: 'sse', idleTimeoutMs: IDLE, backoff: { initialMs: 10, jitter: 0 } })
  const sub = collect(herald, 'x')
  await waitFor(() => sub.retries.length >= 2, 'two replacements')
  expect(sub.retries[0]?.error.message).toBe(`no data for ${IDLE} ms`)
  expect(streams).toBeGreaterThanOrEqual(2)
  sub.stop()
  await sub.done
})

test('WebSocket: a socket that stops answering (no pong) is replaced; Herald, which answers pings, is kept', async () => {
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: (request, bunServer) => (bunServer.upgrade(request, { data: undefined }) ? undefined : new Response('no', { status: 400 })),
    websocket: {
      message(socket, raw) {
        const { type, ref } = JSON.parse(String(raw)) as { type: string; ref?: number }
        // Acknowledges the subscribe, then never says anything again (pings included).
        if (type === 'subscribe') socket.send(JSON.stringify({ type: 'subscribed', ref }))
      },
    },
  })
  const silent = collect(connect({ url: `http://127.0.0.1:${server.port}`, idleTimeoutMs: IDLE, backoff: { initialMs: 10, jitter: 0 } }), 'x')
  await waitFor(() => silent.retries.length >= 1, 'the silent socket to be replaced')
  expect(silent.retries[0]?.error.message).toBe(`no data for ${IDLE} ms`)
  await silent.waitForOpen(2)
  silent.stop()

  const herald = await startServer()
  try {
    const quiet = collect(connect({ url: herald.base, idleTimeoutMs: IDLE }), 'quiet')
    await quiet.waitForOpen()
    // Several timeouts' worth of quiet: the pings are answered, so nothing is replaced.
    await Bun.sleep(IDLE * 4)
    expect(quiet.retries).toEqual([])
    expect(quiet.opens).toBe(1)
    quiet.stop()
    await quiet.done
  } finally {
    await herald.stop()
  }
})

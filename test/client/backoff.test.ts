/**
 * The reconnect schedule, checked by structure rather than by timing: the client's waits go
 * through an injected `sleep` that records each delay and returns at once, and an injected clock
 * says how long a connection stayed up.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { Backoff, backoffSettings } from '../../src/client/backoff'
import { connect, type Transport } from '../../src/client/index'
import { waitFor } from '../helpers'
import { collect } from './collect'

const DOUBLING = [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]

describe('Backoff', () => {
  test('doubles from initialMs up to maxMs; jitter takes up to its share off; the server hint is a floor', () => {
    const plain = new Backoff(backoffSettings({ jitter: 0 }))
    expect(DOUBLING.map(() => plain.next())).toEqual(DOUBLING)
    let random = 0.999
    const jittered = new Backoff(backoffSettings({ random: () => random }))
    expect([jittered.next(), jittered.next()]).toEqual([250, 500])
    random = 0
    expect(jittered.next()).toBe(2000)
    const hinted = new Backoff(backoffSettings({ jitter: 0 }))
    expect([hinted.next(3000), hinted.next(3000), hinted.next(3000), hinted.next(99_999_999)]).toEqual([3000, 3000, 3000, 30_000])
    const huge = new Backoff(backoffSettings({ jitter: 0, factor: 10, maxMs: 1e9 }))
    for (let i = 0; i < 500; i++) expect(Number.isFinite(huge.next())).toBe(true)
  })

  test('a connection that stayed open healthyMs starts the schedule over; a shorter one does not', () => {
    let now = 0
    const backoff = new Backoff(backoffSettings({ jitter: 0, now: () => now }))
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([500, 1000, 2000])
    backoff.opened()
    now += 4999
    expect(backoff.next()).toBe(4000)
    backoff.opened()
    now += 5000
    expect(backoff.next()).toBe(500)
    // Failures without an open in between keep growing, however much time passes.
    now += 60_000
    expect(backoff.next()).toBe(1000)
  })
})

describe.each(['ws', 'sse'] as Transport[])('the client over %s', (transport) => {
  let server: Server<undefined> | undefined
  afterEach(() => server?.stop(true))

  test('a server that refuses every connection (503) is retried on the schedule, never faster', async () => {
    let requests = 0
    server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: () => {
        requests++
        return Response.json({ error: { code: 'too_many_connections', message: 'full' } }, { status: 503 })
      },
    })
    const delays: number[] = []
    const herald = connect({ url: `http://127.0.0.1:${server.port}`, transport, backoff: { jitter: 0, sleep: async (ms) => void delays.push(ms) } })
    const sub = collect(herald, 'x')
    await waitFor(() => delays.length >= DOUBLING.length, 'nine retries')
    sub.stop()
    await sub.done
    expect(delays.slice(0, DOUBLING.length)).toEqual(DOUBLING)
    // One request per attempt, and each attempt after its delay.
    expect(requests).toBeLessThanOrEqual(delays.length + 1)
    expect(sub.retries.slice(0, 3).map((r) => [r.attempt, r.delayMs])).toEqual([
      [1, 500],
      [2, 1000],
      [3, 2000],
    ])
  })

  test('a connection that stays up healthyMs resets the schedule; one dropped at once does not', async () => {
    let now = 0
    /** Each connection ends when the test says: SSE streams and sockets the server holds. */
    const open: (() => void)[] = []
    server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch(request, bunServer) {
        if (new URL(request.url).pathname === '/ws') {
          return bunServer.upgrade(request) ? undefined : new Response('no', { status: 400 })
        }
        const body = new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('retry: 0\n\n'))
            open.push(() => controller.close())
          },
        })
        return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
      },
      websocket: {
        open(socket) {
          open.push(() => socket.close(1011))
        },
        message() {},
      },
    })
    const delays: number[] = []
    const herald = connect({ url: `http://127.0.0.1:${server.port}`, transport, backoff: { jitter: 0, now: () => now, sleep: async (ms) => void delays.push(ms) } })
    const sub = collect(herald, 'x')
    const drop = async (count: number, upFor: number) => {
      for (let i = 0; i < count; i++) {
        await waitFor(() => open.length > 0, 'a connection')
        now += upFor
        open.shift()?.()
        await waitFor(() => delays.length > i, 'the retry')
      }
    }
    await drop(3, 10)
    await waitFor(() => delays.length >= 3, 'three retries')
    await drop(1, 5000)
    await waitFor(() => delays.length >= 4, 'four retries')
    await drop(1, 10)
    await waitFor(() => delays.length >= 5, 'five retries')
    sub.stop()
    await sub.done
    expect(delays.slice(0, 5)).toEqual([500, 1000, 2000, 500, 1000])
  })
})

test('an onRetry that closes the connection stops the retries (no socket is opened after it)', async () => {
  let upgrades = 0
  const dropping = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: (request, bunServer) => (bunServer.upgrade(request, { data: undefined }) ? undefined : new Response('no', { status: 400 })),
    websocket: {
      open(socket) {
        upgrades++
        socket.close(1011, 'bye')
      },
      message() {},
    },
  })
  try {
    const herald = connect({ url: `http://127.0.0.1:${dropping.port}`, backoff: { sleep: async () => {} } })
    const sub = collect(herald, 'x', { onRetry: () => herald.close() })
    await sub.done
    // Whatever was scheduled has had its turn.
    for (let i = 0; i < 20; i++) await Bun.sleep(5)
    expect({ upgrades, retries: sub.retries.length, error: sub.error }).toEqual({ upgrades: 1, retries: 1, error: undefined })
  } finally {
    dropping.stop(true)
  }
})

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { errorHandler } from '../../src/api/errors'
import { silentLogger } from '../../src/log'
import { type BuiltInStreamOptions, builtInStreams } from '../../src/demos/builtin'
import { type StreamGauge, streamGauge } from '../../src/demos/sleep'
import { SseClient, startServer, waitFor } from '../helpers'

/** Just the built-in streams on port 0, with our own gauge and the given timings. */
async function streamServer(options: Partial<BuiltInStreamOptions> = {}) {
  const gauge = streamGauge()
  const app = new Elysia().use(errorHandler(silentLogger)).use(builtInStreams({ retryMs: 3000, gauge, ...options }))
  app.listen({ port: 0, hostname: '127.0.0.1' })
  return { base: `http://127.0.0.1:${app.server?.port}`, gauge, stop: () => app.stop(true) }
}

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } }
  return { status: response.status, ...body.error }
}

let fast: Awaited<ReturnType<typeof streamServer>>
beforeAll(async () => {
  fast = await streamServer({ clockMs: 20, metricsMs: 20, launchStepMs: 20 })
})
afterAll(() => fast.stop())

describe('GET /streams/heartbeat', () => {
  test('opens with retry: and the SSE headers, then "Hello!" as plain unnamed events', async () => {
    const sse = await SseClient.open(`${fast.base}/streams/heartbeat?interval=100`)
    expect(sse.status).toBe(200)
    expect(sse.headers.get('content-type')).toStartWith('text/event-stream')
    expect(sse.headers.get('cache-control')).toBe('no-cache')
    await sse.waitForMessages(2)
    sse.close()
    expect(sse.raw).toStartWith('retry: 3000\n\ndata: Hello!\n\ndata: Hello!\n\n')
    expect(sse.messages.every((message) => message.event === 'message' && message.id === undefined)).toBe(true)
  })

  test('sends at the interval asked for', async () => {
    const started = performance.now()
    const sse = await SseClient.open(`${fast.base}/streams/heartbeat?interval=100`)
    await sse.waitForMessages(4)
    const elapsed = performance.now() - started
    sse.close()
    // The first at once, then three intervals of 100 ms.
    expect(elapsed).toBeGreaterThanOrEqual(290)
    expect(elapsed).toBeLessThan(2000)
  })

  test.each([['99'], ['60001'], ['abc'], ['1.5'], ['-200'], ['1e3']])('interval=%s → 400 invalid_interval', async (value) => {
    const error = await errorOf(await fetch(`${fast.base}/streams/heartbeat?interval=${value}`))
    expect(error.status).toBe(400)
    expect(error.code).toBe('invalid_interval')
    expect(error.message).toContain('from 100 to 60000')
  })

  test('the bounds themselves are accepted', async () => {
    for (const value of ['100', '60000']) {
      const sse = await SseClient.open(`${fast.base}/streams/heartbeat?interval=${value}`)
      expect(sse.status).toBe(200)
      await sse.waitForMessages(1)
      sse.close()
    }
  })
})

describe('GET /streams/clock', () => {
  test('counts 0, 1, 2, … with no ids and no names', async () => {
    const sse = await SseClient.open(`${fast.base}/streams/clock`)
    await sse.waitForMessages(4)
    sse.close()
    expect(sse.raw).toStartWith('retry: 3000\n\ndata: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\n')
  })

  test('each client counts from 0', async () => {
    const first = await SseClient.open(`${fast.base}/streams/clock`)
    await first.waitForMessages(3)
    const second = await SseClient.open(`${fast.base}/streams/clock`)
    const [opening] = await second.waitForMessages(1)
    first.close()
    second.close()
    expect(opening?.data).toBe('0')
  })
})

describe('GET /streams/metrics', () => {
  test('named "metrics" events with ids 0, 1, 2 and {cpu, memory, at} from the process', async () => {
    const sse = await SseClient.open(`${fast.base}/streams/metrics`)
    const events = (await sse.waitForMessages(3)).slice(0, 3)
    sse.close()
    expect(events.map((event) => [event.id, event.event])).toEqual([
      ['0', 'metrics'],
      ['1', 'metrics'],
      ['2', 'metrics'],
    ])
    for (const event of events) {
      const sample = JSON.parse(event.data)
      expect(Object.keys(sample).sort()).toEqual(['at', 'cpu', 'memory'])
      expect(sample.cpu.percent).toBeGreaterThanOrEqual(0)
      expect(sample.cpu.user).toBeGreaterThan(0)
      expect(sample.memory.rss).toBeGreaterThan(1024 * 1024)
      expect(sample.memory.heapUsed).toBeGreaterThan(0)
      // RFC 3339 in UTC, and close to now.
      expect(sample.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      expect(Math.abs(Date.parse(sample.at) - Date.now())).toBeLessThan(5000)
    }
    const cumulative = events.map((event) => JSON.parse(event.data).cpu.user as number)
    expect(cumulative).toEqual([...cumulative].sort((a, b) => a - b))
  })

  test('Last-Event-ID: n continues from n + 1', async () => {
    const sse = await SseClient.open(`${fast.base}/streams/metrics`, { 'last-event-id': '41' })
    await sse.waitForMessages(2)
    sse.close()
    expect(sse.messages.slice(0, 2).map((event) => event.id)).toEqual(['42', '43'])
  })

  test('?lastEventId= works for a first connect, and the header wins over it', async () => {
    const query = await SseClient.open(`${fast.base}/streams/metrics?lastEventId=9`)
    const both = await SseClient.open(`${fast.base}/streams/metrics?lastEventId=9`, { 'last-event-id': '99' })
    await query.waitForMessages(1)
    await both.waitForMessages(1)
    query.close()
    both.close()
    expect(query.messages[0]?.id).toBe('10')
    expect(both.messages[0]?.id).toBe('100')
  })

  test.each([['abc'], ['-1'], ['1.5'], ['99999999999999999']])('Last-Event-ID %s → 400 invalid_last_event_id', async (value) => {
    const error = await errorOf(await fetch(`${fast.base}/streams/metrics`, { headers: { 'last-event-id': value } }))
    expect(error.status).toBe(400)
    expect(error.code).toBe('invalid_last_event_id')
  })
})

describe('GET /streams/launch', () => {
  test('T-minus 3, 2, 1 with ids 1-3, a named liftoff with id 4, then the stream ends', async () => {
    const sse = await SseClient.open(`${fast.base}/streams/launch`)
    await waitFor(() => sse.ended, 'the launch stream to end')
    expect(sse.raw).toBe('retry: 3000\n\nid: 1\ndata: T-minus 3\n\nid: 2\ndata: T-minus 2\n\nid: 3\ndata: T-minus 1\n\nid: 4\nevent: liftoff\ndata: Liftoff!\n\n')
  })

  test('a client resuming mid-countdown gets only the rest', async () => {
    const sse = await SseClient.open(`${fast.base}/streams/launch`, { 'last-event-id': '2' })
    await waitFor(() => sse.ended, 'the launch stream to end')
    expect(sse.messages.map((event) => [event.id, event.event, event.data])).toEqual([
      ['3', 'message', 'T-minus 1'],
      ['4', 'liftoff', 'Liftoff!'],
    ])
  })

  test('a client that saw liftoff gets 204, so EventSource stops reconnecting', async () => {
    const response = await fetch(`${fast.base}/streams/launch`, { headers: { 'last-event-id': '4' } })
    expect(response.status).toBe(204)
    expect(await response.text()).toBe('')
  })

  test('a bad Last-Event-ID → 400', async () => {
    const error = await errorOf(await fetch(`${fast.base}/streams/launch?lastEventId=soon`))
    expect(error).toMatchObject({ status: 400, code: 'invalid_last_event_id' })
  })

  test('steps are spaced by the step interval', async () => {
    const slow = await streamServer({ launchStepMs: 100 })
    const started = performance.now()
    const sse = await SseClient.open(`${slow.base}/streams/launch`)
    await waitFor(() => sse.ended, 'the launch stream to end')
    const elapsed = performance.now() - started
    await slow.stop()
    expect(elapsed).toBeGreaterThanOrEqual(290)
    expect(sse.messages).toHaveLength(4)
  })
})

describe('no timer is left running', () => {
  // Intervals of a minute: only the client's disconnect can end these waits within the deadline.
  let slow: Awaited<ReturnType<typeof streamServer>>
  beforeAll(async () => {
    slow = await streamServer({ clockMs: 60_000, metricsMs: 60_000, launchStepMs: 60_000 })
  })
  afterAll(() => slow.stop())

  const idle = (gauge: StreamGauge) => gauge.timers === 0 && gauge.streams === 0

  test.each([['/streams/heartbeat?interval=60000'], ['/streams/clock'], ['/streams/metrics'], ['/streams/launch']])('%s: a disconnect stops its timer and finalizes the stream', async (path) => {
    expect(idle(slow.gauge)).toBe(true)
    const clients = await Promise.all([1, 2, 3].map(() => SseClient.open(`${slow.base}${path}`)))
    for (const client of clients) await client.waitForMessages(1)
    await waitFor(() => slow.gauge.timers === 3, 'three pending timers')
    expect(slow.gauge.streams).toBe(3)
    for (const client of clients) client.close()
    await waitFor(() => idle(slow.gauge), `timers and streams back to zero (now ${JSON.stringify(slow.gauge)})`, 2000)
  })

  test('a launch that runs to the end leaves nothing behind', async () => {
    const sse = await SseClient.open(`${fast.base}/streams/launch`)
    await waitFor(() => sse.ended, 'the launch stream to end')
    await waitFor(() => idle(fast.gauge), `timers and streams back to zero (now ${JSON.stringify(fast.gauge)})`)
  })
})

describe('in the app', () => {
  test('every stream is routed, with the default timings', async () => {
    const server = await startServer()
    try {
      const launch = await SseClient.open(`${server.base}/streams/launch`)
      const clock = await SseClient.open(`${server.base}/streams/clock`)
      const heartbeat = await SseClient.open(`${server.base}/streams/heartbeat`)
      const metrics = await SseClient.open(`${server.base}/streams/metrics`)
      await waitFor(() => launch.ended, 'the launch to end')
      expect(launch.messages.map((event) => event.data)).toEqual(['T-minus 3', 'T-minus 2', 'T-minus 1', 'Liftoff!'])
      expect((await clock.waitForMessages(1))[0]?.data).toBe('0')
      expect((await heartbeat.waitForMessages(1))[0]?.data).toBe('Hello!')
      expect((await metrics.waitForMessages(1))[0]?.event).toBe('metrics')
      for (const client of [clock, heartbeat, metrics]) client.close()
    } finally {
      await server.stop()
    }
  })
})

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { publish, SseClient, startServer, type TestServer, waitFor } from '../helpers'

let server: TestServer
beforeAll(async () => {
  server = await startServer({ historySize: 5, keepAliveMs: 100 })
})
afterAll(() => server.stop())

describe('GET /events', () => {
  test('opens with retry: and the SSE headers', async () => {
    const sse = await SseClient.open(`${server.base}/events?topic=sse/headers`)
    expect(sse.status).toBe(200)
    expect(sse.headers.get('content-type')).toStartWith('text/event-stream')
    expect(sse.headers.get('cache-control')).toBe('no-cache')
    expect(sse.headers.get('x-accel-buffering')).toBe('no')
    // Without a resume position the opening block also carries the id the stream starts after.
    await waitFor(() => sse.raw.startsWith(`retry: 3000\nid: ${server.hub.head}\n\n`), 'the retry line and starting id')
    sse.close()
  })

  test('a stream that received nothing yet resumes from where it started, through the opening id', async () => {
    const quiet = await SseClient.open(`${server.base}/events?topic=sse/quiet`)
    await waitFor(() => quiet.raw.endsWith('\n\n'), 'the opening block')
    const opened = quiet.events[0]
    expect(opened?.id).toBe(server.hub.head)
    quiet.close()
    // Published while the client is away: EventSource reconnects with the id of the opening block.
    const missed = await publish(server.base, 'sse/quiet', 'while you were away')
    const again = await SseClient.open(`${server.base}/events?topic=sse/quiet`, { 'last-event-id': opened?.id as string })
    expect((await again.waitForMessages(1))[0]).toMatchObject({ id: missed.id, data: 'while you were away' })
    expect(again.raw).toStartWith('retry: 3000\n\n')
    again.close()
  })

  test('several topics and patterns in one stream, each event once', async () => {
    const sse = await SseClient.open(`${server.base}/events?topic=multi/a&topic=multi/*&topic=other/**`)
    await waitFor(() => sse.raw.length > 0, 'stream start')
    await publish(server.base, 'multi/a', 'one') // matches two selectors: delivered once
    await publish(server.base, 'multi/b', 'two')
    await publish(server.base, 'other/x/y', 'three')
    await publish(server.base, 'unrelated', 'never')
    await publish(server.base, 'multi/b/deep', 'never either')
    await publish(server.base, 'multi/a', 'four')
    const events = await sse.waitForMessages(4)
    await Bun.sleep(50)
    expect(sse.messages.map((e) => e.data)).toEqual(['one', 'two', 'three', 'four'])
    sse.close()
  })

  test('multi-line data is framed as several data: lines and arrives intact', async () => {
    const sse = await SseClient.open(`${server.base}/events?topic=sse/lines`)
    await waitFor(() => sse.raw.length > 0, 'stream start')
    const { id } = await publish(server.base, 'sse/lines', 'line 1\nline 2\r\nline 3')
    const [event] = await sse.waitForMessages(1)
    expect(event?.data).toBe('line 1\nline 2\nline 3')
    expect(sse.raw).toContain(`id: ${id}\ndata: line 1\ndata: line 2\ndata: line 3\n\n`)
    sse.close()
  })

  test('quiet streams get keep-alive comments', async () => {
    const sse = await SseClient.open(`${server.base}/events?topic=sse/quiet`)
    await waitFor(() => sse.comments >= 2, 'two keep-alive comments', 3000)
    expect(sse.raw).toContain(': keep-alive\n\n')
    sse.close()
  })

  test('a disconnect removes the subscriber', async () => {
    // Earlier tests closed their clients; their subscriptions must be gone too.
    await waitFor(() => server.hub.stats().subscriptions === 0, 'earlier subscriptions to end')
    const before = 0
    const clients = await Promise.all(Array.from({ length: 20 }, () => SseClient.open(`${server.base}/events?topic=sse/cleanup&topic=sse/*`)))
    await waitFor(() => server.hub.stats().subscriptions === before + 20, 'twenty subscriptions')
    for (const client of clients) client.close()
    await waitFor(() => server.hub.stats().subscriptions === before, 'subscriptions back to where they were')
    expect(server.hub.stats().subscribers).toBe(before)
  })

  test.each([
    ['no topic', '', 'invalid_selector'],
    ['a bad pattern', '?topic=a/**/b', 'invalid_selector'],
    ['a bad segment', '?topic=a%20b', 'invalid_selector'],
  ])('%s → 400', async (_name, query, code) => {
    const response = await fetch(`${server.base}/events${query}`)
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code)
  })

  test('too many topics → 400', async () => {
    const query = Array.from({ length: 65 }, (_, i) => `topic=t${i}`).join('&')
    const response = await fetch(`${server.base}/events?${query}`)
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('too_many_topics')
  })
})

describe('resume', () => {
  test('Last-Event-ID replays exactly the missed events, then live ones, no gap, no duplicate', async () => {
    const first = await publish(server.base, 'resume/a', 'seen')
    await publish(server.base, 'resume/a', 'missed 1')
    await publish(server.base, 'resume/other', 'not subscribed')
    await publish(server.base, 'resume/a', 'missed 2')
    const sse = await SseClient.open(`${server.base}/events?topic=resume/a`, { 'last-event-id': first.id })
    await sse.waitForMessages(2)
    await publish(server.base, 'resume/a', 'live')
    await sse.waitForMessages(3)
    await Bun.sleep(50)
    expect(sse.messages.map((e) => e.data)).toEqual(['missed 1', 'missed 2', 'live'])
    sse.close()
  })

  test('the lastEventId query works like the header (EventSource first connect)', async () => {
    const first = await publish(server.base, 'resume/q', 'seen')
    const second = await publish(server.base, 'resume/q', 'missed')
    const sse = await SseClient.open(`${server.base}/events?topic=resume/q&lastEventId=${first.id}`)
    const [event] = await sse.waitForMessages(1)
    expect(event).toEqual({ id: second.id, event: 'message', data: 'missed' })
    sse.close()
  })

  test('resume works across patterns and several topics, in publish order', async () => {
    const start = await publish(server.base, 'resume/p/x', 'seen')
    await publish(server.base, 'resume/p/y', 'y1')
    await publish(server.base, 'resume/p/x', 'x1')
    await publish(server.base, 'resume/p/z', 'z1')
    const sse = await SseClient.open(`${server.base}/events?topic=resume/p/*`, { 'last-event-id': start.id })
    await sse.waitForMessages(3)
    expect(sse.messages.map((e) => e.data)).toEqual(['y1', 'x1', 'z1'])
    sse.close()
  })

  test('resuming from the latest id replays nothing', async () => {
    const last = await publish(server.base, 'resume/none', 'seen')
    const sse = await SseClient.open(`${server.base}/events?topic=resume/none`, { 'last-event-id': last.id })
    await publish(server.base, 'resume/none', 'live')
    const events = await sse.waitForMessages(1)
    expect(events.map((e) => e.data)).toEqual(['live'])
    sse.close()
  })

  test('an id older than the retained history gets reset first, then live events', async () => {
    const old = await publish(server.base, 'resume/old', 'old')
    for (let i = 0; i < 6; i++) await publish(server.base, 'resume/old', `n${i}`) // history keeps 5
    const sse = await SseClient.open(`${server.base}/events?topic=resume/old`, { 'last-event-id': old.id })
    const [reset] = await sse.waitForMessages(1)
    expect(reset?.event).toBe('reset')
    expect(JSON.parse(reset?.data ?? '')).toEqual({ lastEventId: old.id, head: server.hub.head })
    expect(reset?.id).toBe(server.hub.head)
    await publish(server.base, 'resume/old', 'live')
    await sse.waitForMessages(2)
    expect(sse.messages.map((e) => e.data).slice(1)).toEqual(['live'])
    sse.close()
  })

  test('an unknown id (newer than anything published) gets reset', async () => {
    const sse = await SseClient.open(`${server.base}/events?topic=resume/future`, { 'last-event-id': '99999999999999-0' })
    const [reset] = await sse.waitForMessages(1)
    expect(reset?.event).toBe('reset')
    sse.close()
  })

  test('an id from before the server started gets reset', async () => {
    const sse = await SseClient.open(`${server.base}/events?topic=resume/before`, { 'last-event-id': '1000-0' })
    const [reset] = await sse.waitForMessages(1)
    expect(reset?.event).toBe('reset')
    sse.close()
  })

  test.each(['garbage', '1-2-3', '-1', '1e9-0'])('a malformed Last-Event-ID %p → 400', async (id) => {
    const response = await fetch(`${server.base}/events?topic=resume/a`, { headers: { 'last-event-id': id } })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_last_event_id')
  })
})

test("a quiet stream outlives Bun's idle timeout", async () => {
  const quiet = await startServer({ keepAliveMs: 0 }, { idleTimeout: 1 })
  try {
    const sse = await SseClient.open(`${quiet.base}/events?topic=idle`)
    await Bun.sleep(2500)
    expect(sse.ended).toBe(false)
    await publish(quiet.base, 'idle', 'still here')
    const [event] = await sse.waitForMessages(1)
    expect(event?.data).toBe('still here')
    sse.close()
  } finally {
    await quiet.stop()
  }
})

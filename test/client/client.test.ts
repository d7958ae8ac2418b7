/**
 * The client against a real server, over both transports: what a subscriber gets (data, names,
 * topics), resume across cut connections with no gap and no duplicate, reset, what is retried and
 * what is thrown, and that ending a subscription leaves nothing behind on the server.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from '../../src/server'
import { connect, type HeraldErrorCode, HeraldError, type Transport } from '../../src/client/index'
import { publish, SseClient, startServer, type TestServer, waitFor } from '../helpers'
import { fetchStats } from '../stats'
import { collect } from './collect'
import { type Proxy, tcpProxy } from './proxy'

const FAST = { initialMs: 20, maxMs: 200, jitter: 0 }
let server: TestServer
let proxy: Proxy

beforeAll(async () => {
  server = await startServer({ retryMs: 10 })
  proxy = tcpProxy(server.base)
  // Ids issued from here on: a position is never the empty hub's 0-0.
  await publish(server.base, 'warm-up', 'x')
})
afterAll(async () => {
  proxy.stop()
  await server.stop()
})

/** Subscribers, subscriptions and sockets the server holds, once the count settles at zero. */
async function serverIsEmpty(): Promise<void> {
  await waitFor(async () => {
    const stats = await fetchStats(server.base)
    return stats.subscribers === 0 && stats.subscriptions === 0 && stats.websockets === 0 && stats.connections === 0 && stats.selectors === 0
  }, 'the server to hold no subscriber')
}

let unique = 0
const topicName = (what: string) => `client/${what}-${++unique}`

describe.each(['ws', 'sse'] as Transport[])('over %s', (transport) => {
  test('events arrive in order with their topic, id, name and data; strings, JSON and multi-line text', async () => {
    const herald = connect({ url: server.base, transport, backoff: FAST })
    const topic = topicName('round-trip')
    const sub = collect(herald, [topic])
    await sub.waitForOpen()
    const sent = [
      await herald.publish(topic, 'plain'),
      await herald.publish(topic, { user: 'ada', n: [1, 2] }, { event: 'chat' }),
      await herald.publish(topic, 'line 1\nline 2\r\nline 3\rline 4'),
      await herald.publish(topic, ''),
      await herald.publish(topic, 'not {json'),
    ]
    const events = await sub.waitForEvents(5)
    expect(sent.map((p) => p.topic)).toEqual([topic, topic, topic, topic, topic])
    expect(events.map(({ id, topic, event, data, text }) => ({ id, topic, event, data, text }))).toEqual([
      { id: sent[0]!.id, topic, event: 'message', data: 'plain', text: 'plain' },
      { id: sent[1]!.id, topic, event: 'chat', data: { user: 'ada', n: [1, 2] }, text: '{"user":"ada","n":[1,2]}' },
      // SSE turns every line break into "\n" (WHATWG framing); a WebSocket keeps the text as published.
      { id: sent[2]!.id, topic, event: 'message', data: transport === 'ws' ? 'line 1\nline 2\r\nline 3\rline 4' : 'line 1\nline 2\nline 3\nline 4', text: transport === 'ws' ? 'line 1\nline 2\r\nline 3\rline 4' : 'line 1\nline 2\nline 3\nline 4' },
      { id: sent[3]!.id, topic, event: 'message', data: '', text: '' },
      { id: sent[4]!.id, topic, event: 'message', data: 'not {json', text: 'not {json' },
    ])
    sub.stop()
    await sub.done
    expect(sub.error).toBeUndefined()
    await serverIsEmpty()
  })

  test('a string that looks like JSON: WebSocket keeps the string, SSE parses it (text keeps it either way)', async () => {
    const herald = connect({ url: server.base, transport, backoff: FAST })
    const topic = topicName('json-looking')
    const sub = collect(herald, topic)
    await sub.waitForOpen()
    await herald.publish(topic, '42')
    await herald.publish(topic, 42)
    const [asString, asNumber] = await sub.waitForEvents(2)
    expect([asString?.data, asString?.text]).toEqual([transport === 'ws' ? '42' : 42, '42'])
    expect([asNumber?.data, asNumber?.text]).toEqual([42, '42'])
    sub.stop()
    await serverIsEmpty()
  })

  test('patterns and several topics: one subscription, each event once, topics known over WebSocket', async () => {
    const herald = connect({ url: server.base, transport, backoff: FAST })
    const root = topicName('many')
    const sub = collect(herald, [`${root}/*`, `${root}/a`, `${root}/deep/**`])
    await sub.waitForOpen()
    for (const leaf of ['a', 'b', 'deep/x/y', 'not/matched/here']) await herald.publish(`${root}/${leaf}`, leaf)
    await herald.publish(`${root}/z`, 'last')
    const events = await sub.waitForEvents(4)
    await Bun.sleep(20)
    expect(sub.events().map((e) => e.text)).toEqual(['a', 'b', 'deep/x/y', 'last'])
    expect(events.map((e) => e.topic)).toEqual(transport === 'ws' ? [`${root}/a`, `${root}/b`, `${root}/deep/x/y`, `${root}/z`] : [undefined, undefined, undefined, undefined])
    sub.stop()
    await serverIsEmpty()
  })

  test('a connection cut mid-stream resumes from the last id: nothing missed, nothing twice', async () => {
    const herald = connect({ url: proxy.base, transport, backoff: FAST })
    const topic = topicName('cut')
    const sub = collect(herald, topic)
    await sub.waitForOpen()
    const sent: string[] = []
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 5; i++) sent.push((await publish(server.base, topic, `r${round}-${i}`)).id)
      await sub.waitForEvents(sent.length)
      // Cut while blocked, publish while it cannot reconnect, then let it back.
      proxy.block()
      proxy.cut()
      await waitFor(() => sub.retries.length > round, 'the client to notice the cut')
      for (let i = 0; i < 5; i++) sent.push((await publish(server.base, topic, `away${round}-${i}`)).id)
      proxy.unblock()
      await sub.waitForOpen(round + 2)
    }
    await sub.waitForEvents(sent.length)
    await Bun.sleep(30)
    expect(sub.items.map((item) => (item.type === 'event' ? item.id : item.type))).toEqual(sent)
    // At least one retry per cut (more while the proxy refused), each a network error.
    expect(sub.retries.length).toBeGreaterThanOrEqual(4)
    expect(new Set(sub.retries.map((r) => r.error.code))).toEqual(new Set(['network_error']))
    sub.stop()
    await serverIsEmpty()
  })

  test('a subscription that has received nothing yet still resumes without a gap', async () => {
    const herald = connect({ url: proxy.base, transport, backoff: FAST })
    const topic = topicName('quiet')
    const sub = collect(herald, topic)
    await sub.waitForOpen()
    proxy.block()
    proxy.cut()
    await waitFor(() => sub.retries.length > 0, 'the client to notice the cut')
    const away = await publish(server.base, topic, 'published while it was away')
    proxy.unblock()
    const [event] = await sub.waitForEvents(1)
    expect(event?.id).toBe(away.id)
    // No reset was shown: the position was known from the first subscribe.
    expect(sub.items.map((item) => item.type)).toEqual(['event'])
    sub.stop()
    await serverIsEmpty()
  })

  test('a position older than the history: reset (lastEventId, head) comes first, then live events', async () => {
    const small = await startServer({ retryMs: 10, historySize: 3 })
    const cutter = tcpProxy(small.base)
    await publish(small.base, 'warm-up', 'x')
    try {
      const herald = connect({ url: cutter.base, transport, backoff: FAST })
      const sub = collect(herald, 'old')
      await sub.waitForOpen()
      const first = await publish(small.base, 'old', 'seen')
      await sub.waitForEvents(1)
      cutter.block()
      cutter.cut()
      await waitFor(() => sub.retries.length > 0, 'the cut')
      let last = first
      for (let i = 0; i < 10; i++) last = await publish(small.base, 'old', `missed ${i}`)
      cutter.unblock()
      await sub.waitForOpen(2)
      const live = await publish(small.base, 'old', 'live')
      await sub.waitForEvents(2)
      expect(sub.items).toEqual([expect.objectContaining({ id: first.id }), { type: 'reset', lastEventId: first.id, head: last.id }, expect.objectContaining({ id: live.id, text: 'live' })])
      sub.stop()
    } finally {
      cutter.stop()
      await small.stop()
    }
  })

  test('a server restart (SSE shutdown notice, WebSocket 1001) is resumed from the durable history without loss', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-client-'))
    const store = `sqlite:${join(dir, 'events.sqlite')}` as const
    const first = createServer({ store, retryMs: 10, shutdownTimeoutMs: 2000 })
    const port = first.listen(0, '127.0.0.1')
    const base = `http://127.0.0.1:${port}`
    let second: ReturnType<typeof createServer> | undefined
    try {
      await publish(base, 'warm-up', 'x')
      const herald = connect({ url: base, transport, backoff: FAST })
      const sub = collect(herald, 'restart')
      await sub.waitForOpen()
      const ids = [(await publish(base, 'restart', 'before 1')).id, (await publish(base, 'restart', 'before 2')).id]
      await sub.waitForEvents(2)
      await first.shutdown()
      second = createServer({ store, retryMs: 10 })
      second.listen(port, '127.0.0.1')
      for (const text of ['after 1', 'after 2']) ids.push((await publish(base, 'restart', text)).id)
      await sub.waitForEvents(4)
      expect(sub.items.map((item) => (item.type === 'event' ? item.text : item.type))).toEqual(['before 1', 'before 2', 'after 1', 'after 2'])
      expect(sub.events().map((e) => e.id)).toEqual(ids)
      expect(sub.retries.length).toBeGreaterThan(0)
      sub.stop()
      await sub.done
    } finally {
      await second?.shutdown()
      await first.shutdown()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('lastEventId given to subscribe replays what came after it', async () => {
    const herald = connect({ url: server.base, transport, backoff: FAST })
    const topic = topicName('given')
    const from = await publish(server.base, topic, 'before')
    const after = await publish(server.base, topic, 'after')
    const sub = collect(herald, topic, { lastEventId: from.id })
    expect((await sub.waitForEvents(1)).map((e) => e.id)).toEqual([after.id])
    sub.stop()
    await serverIsEmpty()
  })

  test('a request the server will always refuse is thrown from the loop, not retried', async () => {
    const herald = connect({ url: server.base, transport, backoff: FAST })
    for (const [selectors, options, code] of [
      [['bad//selector'], {}, 'invalid_selector'],
      [['a/**/b'], {}, 'invalid_selector'],
      [Array.from({ length: 65 }, (_, i) => `t${i}`), {}, 'too_many_topics'],
      [['fine'], { lastEventId: 'not-an-id' }, 'invalid_last_event_id'],
    ] as const) {
      const sub = collect(herald, [...selectors], options)
      await sub.done
      expect(sub.error).toBeInstanceOf(HeraldError)
      const error = sub.error as HeraldError
      expect({ code: error.code, status: error.status }).toEqual({ code, status: transport === 'sse' ? 400 : 0 })
      expect(sub.retries).toEqual([])
      expect(sub.opens).toBe(0)
    }
    await serverIsEmpty()
  })

  test('503 (too many connections) is retried with backoff until it passes', async () => {
    const limited = await startServer({ retryMs: 10, maxConnections: 1 })
    try {
      const holder = await SseClient.open(`${limited.base}/events?topic=hold`)
      const herald = connect({ url: limited.base, transport, backoff: FAST })
      const sub = collect(herald, 'limited')
      await waitFor(() => sub.retries.length >= 3, 'three refusals')
      expect(sub.opens).toBe(0)
      // Over SSE the refusal's body is read; a browser WebSocket sees only a failed upgrade.
      expect(sub.retries[0]?.error.code).toBe(transport === 'sse' ? 'too_many_connections' : 'network_error')
      expect(sub.retries.map((r) => r.attempt).slice(0, 3)).toEqual([1, 2, 3])
      holder.close()
      await sub.waitForOpen()
      await publish(limited.base, 'limited', 'in at last')
      expect((await sub.waitForEvents(1))[0]?.text).toBe('in at last')
      sub.stop()
    } finally {
      await limited.stop()
    }
  })

  test('abort, break and close() each end the loop and leave no subscriber on the server', async () => {
    const herald = connect({ url: server.base, transport, backoff: FAST })
    const topic = topicName('end')
    const aborted = collect(herald, topic)
    const closedOne = collect(herald, `${topic}/x`)
    await aborted.waitForOpen()
    await closedOne.waitForOpen()
    let broken = 0
    let open = false
    const breaking = (async () => {
      for await (const item of herald.subscribe(`${topic}/b`, { onOpen: () => (open = true) })) {
        if (item.type === 'event') broken++
        break
      }
    })()
    await waitFor(() => open, 'the third subscription')
    await herald.publish(`${topic}/b`, 'one')
    await breaking
    expect(broken).toBe(1)
    aborted.stop()
    await aborted.done
    herald.close()
    await closedOne.done
    expect([aborted.error, closedOne.error]).toEqual([undefined, undefined])
    await serverIsEmpty()
    // A closed connection refuses new subscriptions, and still publishes.
    const late = collect(herald, topic)
    await late.done
    expect((late.error as HeraldError).code).toBe('closed')
    expect((await herald.publish(topic, 'still publishes')).topic).toBe(topic)
  })

  test('a loop slower than the stream: its buffer stays bounded and it still gets every event once, in order', async () => {
    const slowServer = await startServer({ retryMs: 10, queueSize: 16 })
    await publish(slowServer.base, 'warm-up', 'x')
    try {
      const herald = connect({ url: slowServer.base, transport, backoff: FAST, bufferSize: 64 * 8 })
      let maxQueued = 0
      const sub = collect(herald, 'flood', { slow: () => Bun.sleep(2) })
      await sub.waitForOpen()
      const ids: string[] = []
      const batch = Array.from({ length: 50 }, (_, i) => ({ topic: 'flood', data: `event ${i}` }))
      for (let round = 0; round < 6; round++) {
        const response = await fetch(`${slowServer.base}/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) })
        ids.push(...((await response.json()) as { events: { id: string }[] }).events.map((e) => e.id))
        maxQueued = Math.max(maxQueued, (await fetchStats(slowServer.base)).queued)
      }
      await sub.waitForEvents(ids.length, 20_000)
      expect(sub.events().map((e) => e.id)).toEqual(ids)
      expect(sub.items.every((item) => item.type === 'event')).toBe(true)
      // It was behind: the server cut the SSE stream (its queue is 16), the WebSocket subscription
      // stopped taking events and subscribed again once its loop caught up.
      expect(maxQueued).toBeLessThanOrEqual(16)
      if (transport === 'sse') expect((await fetchStats(slowServer.base)).slowConsumers.sse).toBeGreaterThan(0)
      else expect(sub.opens).toBeGreaterThan(1)
      sub.stop()
    } finally {
      await slowServer.stop()
    }
  }, 30_000)
})

describe('publish', () => {
  const herald = () => connect({ url: server.base })

  test('answers with the id and topic the server stored; event and id are passed on', async () => {
    const topic = topicName('publish')
    const sub = collect(herald(), topic)
    await sub.waitForOpen()
    const published = await herald().publish(topic, { a: 1 }, { event: 'named' })
    expect(published).toEqual({ id: expect.stringMatching(/^\d+-\d+$/), topic })
    const ms = Number(published.id.split('-')[0]) + 1
    const chosen = await herald().publish(topic, 'mine', { id: `${ms}-7` })
    expect(chosen.id).toBe(`${ms}-7`)
    const [first, second] = await sub.waitForEvents(2)
    expect([first?.event, second?.id]).toEqual(['named', `${ms}-7`])
    sub.stop()
  })

  test('failures are HeraldErrors with the server\'s code and status', async () => {
    const cases: [() => Promise<unknown>, HeraldErrorCode, number][] = [
      [() => herald().publish('bad topic', 'x'), 'invalid_topic', 400],
      [() => herald().publish('ok', 'x', { event: 'reset' }), 'invalid_event', 400],
      [() => herald().publish('ok', 'x', { id: 'nope' }), 'invalid_id', 400],
      // Ids far from the server's clock are refused (--max-id-skew).
      [() => herald().publish('ok', 'x', { id: `${Date.now() + 3_600_000}-0` }), 'invalid_id', 400],
      [() => herald().publish('ok', 'x'.repeat(70_000)), 'payload_too_large', 413],
      [() => herald().publish('ok', undefined), 'invalid_data', 0],
      [() => connect({ url: 'http://127.0.0.1:1' }).publish('ok', 'x'), 'network_error', 0],
      [() => connect({ url: `${server.base}/no/such/prefix` }).publish('ok', 'x'), 'not_found', 404],
    ]
    for (const [attempt, code, status] of cases) {
      const error = await attempt().then(
        () => undefined,
        (caught: unknown) => caught,
      )
      expect(error).toBeInstanceOf(HeraldError)
      const { code: got, status: gotStatus } = error as HeraldError
      expect({ got, gotStatus }).toEqual({ got: code, gotStatus: status })
    }
    const { id } = await herald().publish('ok', 'x')
    const error = (await herald()
      .publish('ok', 'y', { id })
      .catch((caught: unknown) => caught)) as HeraldError
    expect([error.code, error.status]).toEqual(['id_not_increasing', 409])
  })
})

describe('over WebSocket', () => {
  test('subscriptions share one socket; overlapping ones get their own, and each gets each event once', async () => {
    const herald = connect({ url: server.base, backoff: FAST })
    const root = topicName('share')
    const subs = [collect(herald, `${root}/a`), collect(herald, `${root}/b`), collect(herald, `${root}/*`), collect(herald, `${root}/**`)]
    for (const sub of subs) await sub.waitForOpen()
    // a and b share; * overlaps both; ** overlaps all three.
    expect((await fetchStats(server.base)).websockets).toBe(3)
    await herald.publish(`${root}/a`, 'to a')
    await herald.publish(`${root}/b`, 'to b')
    await herald.publish(`${root}/c/d`, 'deep')
    await subs[3]!.waitForEvents(3)
    await subs[2]!.waitForEvents(2)
    await Bun.sleep(20)
    expect(subs.map((sub) => sub.events().map((e) => e.text))).toEqual([['to a'], ['to b'], ['to a', 'to b'], ['to a', 'to b', 'deep']])
    herald.close()
    await serverIsEmpty()
  })

})

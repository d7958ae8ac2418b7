/**
 * The frame every hostile test file runs in: a server, a live raw SSE stream on every topic opened
 * before anything is published, and a ledger of the events the server accepted. Valid but tricky
 * events are published between hostile cases; at the end `finish()` proves that nothing accepted
 * was lost or altered: the live stream's bytes are exactly the expected frames (so no hostile field
 * ever injected an SSE line), and a resume from the start, over SSE and WebSocket, returns them all.
 */
import { expect } from 'bun:test'
import type { HeraldOptions } from '../../src/config'
import { startServer, type TestServer, waitFor, WsClient } from '../helpers'
import { RawClient } from '../raw'
import { fetchStats } from '../stats'
import type { Rng } from './prng'

/** One event the server acknowledged, as the publisher sent it. */
export interface Accepted {
  id: string
  topic: string
  event?: string
  /** The published value: a string, or a JSON value. */
  value: unknown
}

/** The SSE bytes the WHATWG framing rules give for an event (written here independently of src/). */
export function expectedFrame(event: Accepted): string {
  const text = typeof event.value === 'string' ? event.value : JSON.stringify(event.value)
  const lines = text
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}\n`)
    .join('')
  return `id: ${event.id}\n${event.event ? `event: ${event.event}\n` : ''}${lines}\n`
}

const TOPICS = ['hostile/a', 'hostile/b/c', 'hostile/x:y@z+=,!~.-_', 'hostile/deep/1/2/3/4']
const NAMES = [undefined, 'chat', 'a.b:c-d_e', 'X'.repeat(64), 'message']
const VALUES: unknown[] = [
  'plain',
  '',
  'line 1\nline 2',
  'cr\ronly',
  'crlf\r\nend\r\n',
  '\n\nleading and trailing\n\n',
  'data: forged\n\nid: 1-0\nevent: reset\nretry: 1',
  'émoji 🎉 中文 \u0000 nul \u2028 ls \t tab',
  { text: 'json\nwith newline', n: [1, 2.5, -3e10], nested: { ok: true, nothing: null } },
  [1, 'two', { three: 3 }],
  42,
  true,
  null,
  'x'.repeat(20_000),
]

export interface Harness {
  server: TestServer
  /** Publishes one valid, tricky event (over HTTP or WebSocket) and records it. */
  publishValid(rng: Rng): Promise<void>
  /** Fails with `what` unless /healthz answers 200 within a second. */
  healthy(what: string): Promise<void>
  /** The integrity checks described above; stops the server. */
  finish(): Promise<void>
  accepted: Accepted[]
}

export async function hostileServer(overrides: Partial<HeraldOptions> = {}, listen: { idleTimeout?: number } = {}): Promise<Harness> {
  // No keep-alive comments: the live stream's bytes must be exactly the events.
  const server = await startServer({ keepAliveMs: 0, historySize: 100_000, wsMessageRate: 0, ...overrides }, listen)
  const live = await RawClient.connect(server.base)
  // A stream that does not resume opens with the id it starts after (the head: nothing published yet).
  const opening = `retry: 3000\nid: ${server.hub.head}\n\n`
  live.write('GET /events?topic=** HTTP/1.1\r\nHost: herald.test\r\n\r\n')
  await live.waitFor((client) => client.response()?.body.startsWith(opening) === true, 'the live stream to open')
  const publisher = await WsClient.open(`${server.wsBase}/ws`)
  const accepted: Accepted[] = []
  let count = 0

  const publishValid = async (rng: Rng) => {
    const topic = rng.pick(TOPICS)
    const event = rng.pick(NAMES)
    const value = rng.pick(VALUES)
    let id: string
    if (count++ % 2 === 0) {
      const response = await fetch(`${server.base}/topics/${topic}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: value, event }),
      })
      expect(response.status).toBe(200)
      id = ((await response.json()) as { id: string }).id
    } else {
      const reply = await publisher.request({ type: 'publish', topic, data: value, event })
      expect(reply.type).toBe('published')
      id = reply.id as string
    }
    accepted.push({ id, topic, event: event === 'message' ? undefined : event, value })
  }

  const healthy = async (what: string) => {
    const response = await fetch(`${server.base}/healthz`, { signal: AbortSignal.timeout(1000) }).catch((error: Error) => error)
    if (response instanceof Error || response.status !== 200) throw new Error(`/healthz did not answer after ${what}: ${response instanceof Error ? response.message : response.status}`)
  }

  const finish = async () => {
    expect(accepted.length).toBeGreaterThan(1)
    const frames = accepted.map(expectedFrame)
    // 1. The live stream, byte for byte: nothing injected, nothing lost, nothing altered.
    const expectedLive = `${opening}${frames.join('')}`
    await waitFor(() => (live.response()?.body.length ?? 0) >= expectedLive.length, 'the live stream to receive every accepted event', 10_000)
    expect(live.response()?.body).toBe(expectedLive)
    live.destroy()
    // 2. A resume from the first accepted event, over SSE: the rest, byte for byte.
    const first = accepted[0] as Accepted
    const resumed = await RawClient.connect(server.base)
    resumed.write(`GET /events?topic=** HTTP/1.1\r\nHost: herald.test\r\nLast-Event-ID: ${first.id}\r\n\r\n`)
    const expectedResume = `retry: 3000\n\n${frames.slice(1).join('')}`
    await waitFor(() => (resumed.response()?.body.length ?? 0) >= expectedResume.length, 'the SSE resume', 10_000)
    expect(resumed.response()?.body).toBe(expectedResume)
    resumed.destroy()
    // 3. The same over WebSocket, as parsed values.
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    ws.send({ type: 'subscribe', topics: ['**'], lastEventId: first.id })
    await waitFor(() => ws.ofType('event').length >= accepted.length - 1, 'the WebSocket resume', 10_000)
    expect(ws.ofType('reset')).toEqual([])
    expect(ws.ofType('event').map(({ id, topic, event, data }): Accepted => ({ id: id as string, topic: topic as string, event: event as string | undefined, value: data }))).toEqual(accepted.slice(1))
    ws.close()
    publisher.close()
    // 4. Nothing hostile was published.
    expect((await fetchStats(server.base)).published).toBe(accepted.length)
    await server.stop()
  }

  return { server, publishValid, healthy, finish, accepted }
}

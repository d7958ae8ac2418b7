/**
 * Redis traffic per node does not grow with subscribers or events: while a node serves many SSE
 * and WebSocket subscribers and events, the only commands it sends Redis are its heartbeat and its
 * chat scan, each once per period.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { HEARTBEAT } from '../../src/cluster/membership'
import { SCAN } from '../../src/demos/chat/cluster-scripts'
import { createServer } from '../../src/server'
import { SseClient, waitFor, WsClient } from '../helpers'
import { cleanUp, REDIS_URL, redisAvailable, uniquePrefix } from './redis'

describe.skipIf(!redisAvailable)('Redis traffic of a node', () => {
  const prefix = uniquePrefix('traffic')
  let server: ReturnType<typeof createServer>
  let base = ''
  const sent: string[] = []
  beforeAll(async () => {
    server = createServer({ host: '127.0.0.1', port: 0, feedDb: ':memory:', redis: REDIS_URL, redisPrefix: prefix, nodeTtlMs: 1000 })
    const link = server.herald.cluster?.link
    if (!link) throw new Error('no cluster link')
    const send = link.send.bind(link)
    link.send = (command, args = []) => {
      sent.push(command === 'EVAL' ? (args[0] === HEARTBEAT ? 'heartbeat' : args[0] === SCAN ? 'chat scan' : 'other script') : command)
      return send(command, args)
    }
    server.app.listen({ port: 0, hostname: '127.0.0.1' })
    base = `http://127.0.0.1:${server.app.server?.port}`
    await waitFor(() => sent.includes('heartbeat'), 'the first heartbeat')
    // With the Redis broker, publishes are taken once it is connected (it connects in the background).
    await waitFor(async () => (await fetch(`${base}/topics/warm/up`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status === 200, 'a first publish', 10_000)
  })
  afterAll(async () => {
    await server.app.stop(true)
    await Bun.sleep(50)
    await cleanUp(prefix)
  })

  test('many subscribers and events: only the periodic heartbeat and chat scan reach Redis', async () => {
    sent.length = 0
    const started = performance.now()
    const sse = await Promise.all(Array.from({ length: 40 }, (_, i) => SseClient.open(`${base}/events?topic=load/${i % 4}`)))
    const ws = await Promise.all(Array.from({ length: 20 }, (_, i) => WsClient.open(`${base.replace('http', 'ws')}/ws?topic=load/${i % 4}`)))
    for (let i = 0; i < 200; i++) {
      const response = await fetch(`${base}/topics/load/${i % 4}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `event ${i}` })
      expect(response.status).toBe(200)
    }
    await Promise.all(sse.map((client) => client.waitForMessages(50)))
    await waitFor(() => ws.every((client) => client.ofType('event').length === 50), 'every WebSocket to have its 50 events')
    for (const client of sse) client.close()
    for (const client of ws) client.close()
    const elapsedMs = performance.now() - started
    const count = (kind: string) => sent.filter((command) => command === kind).length
    expect(sent.filter((command) => command !== 'heartbeat' && command !== 'chat scan')).toEqual([])
    // One heartbeat per ttl / 5 (200 ms here), one scan per 250 ms: bounded by time, not by load.
    expect(count('heartbeat')).toBeLessThanOrEqual(Math.ceil(elapsedMs / 200) + 1)
    expect(count('chat scan')).toBeLessThanOrEqual(Math.ceil(elapsedMs / 250) + 1)
  })
})

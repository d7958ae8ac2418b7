/**
 * The README's two-node nginx example, run: its `herald-nginx.conf` block (ports swapped for the
 * test's) in front of two nodes on one Redis. SSE streams pass through unbuffered, WebSockets
 * upgrade with their Origin accepted, requests spread over both nodes (no stickiness), the chat
 * works through it. Skipped where nginx is not installed (apt-get install nginx-light).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { chatToken } from '../demos/chat-client'
import { SseClient, waitFor, WsClient } from '../helpers'
import { fetchStats } from '../stats'
import { freePort, startCluster, type TestCluster } from './nodes'
import { redisAvailable } from './redis'

const NGINX = Bun.which('nginx') ?? (await Bun.file('/usr/sbin/nginx').exists() ? '/usr/sbin/nginx' : undefined)

/** The nginx block that follows "`herald-nginx.conf`:" in the README. */
async function readmeConfig(): Promise<string> {
  const readme = await Bun.file(join(import.meta.dir, '..', '..', 'README.md')).text()
  const match = /`herald-nginx\.conf`:\n\n```nginx\n([\s\S]*?)```/.exec(readme)
  if (!match) throw new Error('no herald-nginx.conf block in the README')
  return match[1] as string
}

describe.skipIf(!redisAvailable || NGINX === undefined)('the README\'s nginx example in front of two nodes', () => {
  let cluster: TestCluster
  let nginx: Subprocess | undefined
  let dir = ''
  let lb = ''
  beforeAll(async () => {
    cluster = await startCluster(2, ['--node-ttl', '2s'], 'nginx')
    const [a, b] = cluster.nodes as unknown as [{ port: number }, { port: number }]
    const port = freePort()
    lb = `http://127.0.0.1:${port}`
    const config = (await readmeConfig()).replace('127.0.0.1:3001', `127.0.0.1:${a.port}`).replace('127.0.0.1:3002', `127.0.0.1:${b.port}`).replace('listen 8080;', `listen 127.0.0.1:${port};`)
    expect(config).toContain(`127.0.0.1:${a.port}`)
    dir = mkdtempSync(join(tmpdir(), 'herald-nginx-'))
    writeFileSync(join(dir, 'nginx.conf'), config)
    nginx = Bun.spawn([NGINX as string, '-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `daemon off; pid ${join(dir, 'nginx.pid')}; error_log stderr;`], { stdout: 'ignore', stderr: 'pipe' })
    await waitFor(async () => (await fetch(`${lb}/healthz`).catch(() => undefined))?.status === 200, 'nginx to answer', 10_000)
  }, 30_000)
  afterAll(async () => {
    nginx?.kill('SIGTERM')
    await nginx?.exited
    await cluster?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('requests spread over both nodes: no sticky sessions', async () => {
    const seen = new Set<string>()
    for (let i = 0; i < 10; i++) seen.add(((await fetchStats(lb)).cluster?.self) ?? '')
    expect(seen.size).toBe(2)
  })

  test('an SSE stream passes through unbuffered: the retry line and each event arrive as sent', async () => {
    const sse = await SseClient.open(`${lb}/events?topic=through/nginx`)
    try {
      expect(sse.status).toBe(200)
      await waitFor(() => sse.raw.startsWith('retry:'), 'the retry line at once')
      // Published on both nodes directly: the stream's own node delivers its event, while the stream stays open.
      for (const node of cluster.nodes) {
        const response = await fetch(`${node.base}/topics/through/nginx`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `from ${node.port}` })
        expect(response.status).toBe(200)
      }
      await sse.waitForMessages(1)
      expect(sse.ended).toBe(false)
    } finally {
      sse.close()
    }
  })

  test('a WebSocket upgrades through nginx, its Origin (the balancer\'s address) accepted', async () => {
    const client = await WsClient.open(`${lb.replace('http', 'ws')}/ws`, { origin: lb })
    try {
      expect(await client.request({ type: 'subscribe', topics: ['through/ws'] })).toMatchObject({ type: 'subscribed' })
      expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
    } finally {
      client.close()
    }
  })

  test('the chat through the balancer: a token from whichever node, a page on whichever node, one name', async () => {
    const { token } = await chatToken(lb, 'nia', 'n'.repeat(20))
    const page = await WsClient.open(`${lb.replace('http', 'ws')}/ws`, { origin: lb })
    try {
      expect(await page.request({ type: 'auth', token })).toMatchObject({ type: 'authenticated', subject: 'nia' })
      expect(await page.request({ type: 'subscribe', topics: ['chat/users/nia/inbox', `chat/claim/${'n'.repeat(20)}`] })).toMatchObject({ type: 'subscribed' })
      const joined = await fetch(`${lb}/chat/rooms/porch/join`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })
      expect(await joined.json()).toEqual({ room: 'porch', users: ['nia'] })
      for (let i = 0; i < 4; i++) expect((await fetch(`${lb}/chat/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'nia', key: 'm'.repeat(20) }) })).status).toBe(409)
    } finally {
      page.close()
    }
  })
})

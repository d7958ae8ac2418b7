/**
 * With no key configured: subscribing is open; publishing (HTTP and WebSocket) only from loopback,
 * and not from a foreign page's origin; `--dev` opens publishing to everyone. The peer's address
 * is injected (a test cannot connect from another machine). The origin rule on WebSocket upgrades.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { SseClient, startServer, waitFor, WsClient } from '../helpers'
import { type CustomServer, startCustomServer } from '../transports/custom-app'

const servers: CustomServer[] = []
afterAll(async () => {
  for (const server of servers) await server.stop()
})

function start(options: Parameters<typeof startCustomServer>[0]): CustomServer {
  const server = startCustomServer(options)
  servers.push(server)
  return server
}

/** A peer on another machine. */
const REMOTE = () => '203.0.113.7'

async function publishOver(server: CustomServer, headers: Record<string, string> = {}): Promise<{ status: number; code: string | undefined; message: string }> {
  const response = await fetch(`${server.base}/topics/news/x`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"data":"hi"}' })
  const body = (await response.json()) as { error?: { code: string; message: string } }
  return { status: response.status, code: body.error?.code, message: body.error?.message ?? '' }
}

/** A WebSocket opened with `headers` (Bun's client can set them, Origin included). */
async function socket(url: string, headers: Record<string, string> = {}): Promise<WsClient> {
  return WsClient.open(url, headers)
}

describe('no key, not dev: publishing only from loopback', () => {
  test('from another machine: HTTP publish is 403 loopback_only, saying how to configure a key; nothing is published', async () => {
    const server = start({ remoteAddress: REMOTE })
    const answer = await publishOver(server)
    expect(answer).toMatchObject({ status: 403, code: 'loopback_only' })
    expect(answer.message).toContain('--jwt-secret')
    expect(answer.message).toContain('--dev')
    const batch = await fetch(`${server.base}/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"topic":"a","data":1}]' })
    expect(batch.status).toBe(403)
    expect(server.hub.stats().published).toBe(0)
  })

  test('from another machine: a WebSocket publish gets an error loopback_only; subscribing (SSE and WebSocket) stays open', async () => {
    const server = start({ remoteAddress: REMOTE })
    const sse = await SseClient.open(`${server.base}/events?topic=news/**`)
    expect(sse.status).toBe(200)
    const ws = await socket(`${server.wsBase}/ws?topic=news/**`)
    expect(await ws.request({ type: 'publish', topic: 'news/x', data: 1 })).toMatchObject({ type: 'error', code: 'loopback_only' })
    await server.hub.publish([{ topic: 'news/x', data: 'from code' }])
    await sse.waitForMessages(1)
    await ws.waitFor((message) => message.type === 'event', 'the event')
    sse.close()
    ws.close()
  })

  test('from loopback: HTTP and WebSocket publish are accepted', async () => {
    const server = start({})
    expect((await publishOver(server)).status).toBe(200)
    const ws = await socket(`${server.wsBase}/ws`)
    expect(await ws.request({ type: 'publish', topic: 'news/x', data: 1 })).toMatchObject({ type: 'published' })
    ws.close()
  })

  test('from loopback but a foreign page (its Origin): 403 forbidden_origin; the own origin and --allowed-origins pass', async () => {
    const server = start({ allowedOrigins: ['https://app.example'] })
    expect(await publishOver(server, { origin: 'https://evil.example' })).toMatchObject({ status: 403, code: 'forbidden_origin' })
    expect((await publishOver(server, { origin: server.base })).status).toBe(200)
    expect((await publishOver(server, { origin: 'https://app.example' })).status).toBe(200)
  })

  test('the address function decides: IPv6 loopback and IPv4-mapped loopback are loopback; an unknown address is not', async () => {
    for (const [address, status] of [['::1', 200], ['::ffff:127.0.0.1', 200], ['127.8.9.10', 200], [null, 403], ['10.0.0.1', 403], ['::ffff:10.0.0.1', 403], ['1127.0.0.1', 403]] as const) {
      const server = start({ remoteAddress: () => address })
      expect([address, (await publishOver(server)).status]).toEqual([address, status])
    }
  })
})

describe('no key, dev mode: open to everyone', () => {
  test('publishing from another machine and from a foreign page is accepted, over HTTP and WebSocket', async () => {
    const server = start({ remoteAddress: REMOTE, dev: true })
    expect((await publishOver(server)).status).toBe(200)
    expect((await publishOver(server, { origin: 'https://evil.example' })).status).toBe(200)
    const ws = await socket(`${server.wsBase}/ws`, { origin: 'https://evil.example' })
    expect(await ws.request({ type: 'publish', topic: 'news/x', data: 1 })).toMatchObject({ type: 'published' })
    ws.close()
  })
})

describe('the origin rule on WebSocket upgrades', () => {
  const upgrade = (server: CustomServer, headers: Record<string, string>) =>
    fetch(`${server.base}/ws`, { headers: { upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', ...headers } })

  test('a foreign origin is refused with 403 forbidden_origin before the upgrade; no Origin, the own one and listed ones pass', async () => {
    const server = start({ allowedOrigins: ['https://app.example'] })
    const refused = await upgrade(server, { origin: 'https://evil.example' })
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('forbidden_origin')
    expect((await upgrade(server, { origin: 'null' })).status).toBe(403)
    // A real client sending that Origin cannot open the socket.
    await expect(socket(`${server.wsBase}/ws`, { origin: 'https://evil.example' })).rejects.toThrow()
    for (const headers of [{} as Record<string, string>, { origin: server.base }, { origin: server.base.replace('http:', 'https:') }, { origin: 'https://app.example' }]) {
      const ws = await socket(`${server.wsBase}/ws`, headers)
      expect(await ws.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
      ws.close()
    }
    await waitFor(() => server.hub.stats().connections === 0, 'sockets to close')
  })

  test('the standalone server: --allowed-origins and the exact --cors-origins are allowed, others refused', async () => {
    const server = await startServer({ allowedOrigins: ['https://a.example'], corsOrigins: ['https://b.example'] })
    try {
      for (const origin of ['https://a.example', 'https://b.example']) {
        const ws = await socket(`${server.wsBase}/ws`, { origin })
        expect(await ws.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
        ws.close()
      }
      const response = await fetch(`${server.base}/ws`, { headers: { origin: 'https://c.example', upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } })
      expect(response.status).toBe(403)
    } finally {
      await server.stop()
    }
  })
})

/**
 * The compiled executable is the product: build it, copy it alone into an empty directory, and use
 * it as a user would. Nothing may be read from the source tree at run time.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { $ } from 'bun'
import { exportSPKI, generateKeyPair, SignJWT } from 'jose'
import { PAGES } from '../src/demos/pages'
import { createAuthenticator } from '../src/auth/authenticator'
import { DEFAULTS, VERSION } from '../src/config'
import { parseSelector } from '../src/hub/topics'
import { type RunningCli, runCli, startCli, startupFailureTests } from './cli'
import { SseClient, waitFor, WsClient } from './helpers'

const root = join(import.meta.dir, '..')
let buildDir: string
let emptyDir: string
let binary: string

beforeAll(async () => {
  buildDir = mkdtempSync(join(tmpdir(), 'herald-build-'))
  emptyDir = mkdtempSync(join(tmpdir(), 'herald-empty-'))
  await $`bun run build`.cwd(root).env({ ...process.env, HERALD_BUILD_OUT: join(buildDir, 'herald') }).quiet()
  binary = join(emptyDir, 'herald')
  copyFileSync(join(buildDir, 'herald'), binary)
  expect(readdirSync(emptyDir)).toEqual(['herald'])
}, 120_000)

afterAll(() => {
  rmSync(buildDir, { recursive: true, force: true })
  rmSync(emptyDir, { recursive: true, force: true })
})

/** Starts the binary on an ephemeral port, from the empty directory (see startCli). */
function start(args: string[] = []): Promise<RunningCli> {
  return startCli({ argv: [binary], cwd: emptyDir }, args)
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([binary, ...args], { cwd: emptyDir, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  return { code, stdout, stderr }
}

describe('the command line', () => {
  test('--version prints the version', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' })
  })

  test('--help lists every option with its env var and default', async () => {
    const { code, stdout } = await run(['--help'])
    expect(code).toBe(0)
    for (const fragment of ['--port', 'PORT', '--history', 'HERALD_HISTORY', '--keep-alive', '--max-message-size', '--queue-size', '--cors-origins', '--log-level', '--log-format', 'default 3000']) {
      expect(stdout).toContain(fragment)
    }
  })

  test.each([[['--bogus']], [['--port', 'seventy']], [['--log-level', 'loud']], [['--port']]])('%p exits 2 with a clear message', async (args) => {
    const { code, stderr } = await run(args)
    expect(code).toBe(2)
    expect(stderr).toContain('herald:')
    expect(stderr).toContain('--help')
  })

  test('a bad environment variable exits 2 and names it', async () => {
    const child = Bun.spawn([binary], { cwd: emptyDir, env: { ...process.env, HERALD_HISTORY: 'lots' }, stderr: 'pipe', stdout: 'ignore' })
    expect(await child.exited).toBe(2)
    expect(await new Response(child.stderr).text()).toContain('HERALD_HISTORY')
  })
})

describe('herald token, from the binary', () => {
  const secret = 'binary-test-secret-0123456789-abcdefgh'

  test('prints a token that a Herald with the same secret accepts, with exactly its rights', async () => {
    const result = await runCli({ argv: [binary], cwd: emptyDir }, ['token', '--sub', 'ada', '--subscribe', 'users/{sub}/**', '--publish', 'chat/**', '--ttl', '1h'], { env: { HERALD_JWT_SECRET: secret } })
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/)
    const principal = await createAuthenticator({ ...DEFAULTS, jwtSecret: secret }).verify(result.stdout.trim())
    expect(principal.subject).toBe('ada')
    expect(principal.mayPublish('chat/room-1')).toBe(true)
    expect(principal.maySubscribe(parseSelector('users/ada/inbox'))).toBe(true)
    expect(principal.maySubscribe(parseSelector('users/*/inbox'))).toBe(false)
    expect(principal.expiresAt).toBeGreaterThan(Date.now() + 3_500_000)
  })

  test.each([[['token', '--subscribe', 'a']], [['token', '--jwt-secret', secret, '--subscribe', 'a/**/b']], [['token', '--jwt-secret', secret]], [['token', '--bogus']]])('%p exits 2 with one line and prints no token', async (args) => {
    const result = await runCli({ argv: [binary], cwd: emptyDir }, args, { env: { HERALD_JWT_SECRET: '' } })
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^herald: token: [^\n]+herald token --help"\n$/)
  })

  test('a server started with a secret logs that one is set, never the secret', async () => {
    const server = await start(['--jwt-secret', secret, '--public', 'news/**'])
    try {
      const line = server.logs.find((entry) => entry.includes('herald started')) as string
      expect(JSON.parse(line)).toMatchObject({ jwtSecret: '(set)', public: ['news/**'] })
      expect(server.logs.join('\n')).not.toContain(secret)
    } finally {
      server.child.kill('SIGKILL')
    }
  })
})

describe('the binary verifies tokens', () => {
  const secret = 'binary-verify-secret-0123456789-abcdefgh'

  /** POST /topics/<topic> with text, and a bearer token when given. */
  function publishText(base: string, topic: string, text: string, token?: string): Promise<Response> {
    return fetch(`${base}/topics/${topic}`, { method: 'POST', headers: { 'content-type': 'text/plain', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: text })
  }

  test('with --jwt-secret: a publish without a token is 401 with WWW-Authenticate; one minted by the same binary\'s `herald token` is accepted and delivered', async () => {
    const server = await start(['--jwt-secret', secret])
    try {
      const refused = await publishText(server.base, 'bin/auth', 'no token')
      expect(refused.status).toBe(401)
      expect(refused.headers.get('www-authenticate')).toStartWith('Bearer')
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('missing_token')
      const bad = await publishText(server.base, 'bin/auth', 'forged', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl')
      expect(bad.status).toBe(401)
      expect(bad.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')

      const minted = await runCli({ argv: [binary], cwd: emptyDir }, ['token', '--sub', 'ada', '--publish', 'bin/**', '--subscribe', 'bin/**', '--ttl', '10m'], { env: { HERALD_JWT_SECRET: secret } })
      expect(minted).toMatchObject({ code: 0, stderr: '' })
      const token = minted.stdout.trim()
      // Subscribing needs the token too (no --public here).
      expect((await SseClient.open(`${server.base}/events?topic=bin/auth`)).status).toBe(401)
      const sse = await SseClient.open(`${server.base}/events?topic=bin/auth`, { authorization: `Bearer ${token}` })
      expect(sse.status).toBe(200)
      const accepted = await publishText(server.base, 'bin/auth', 'with a token', token)
      expect(accepted.status).toBe(200)
      const { id } = (await accepted.json()) as { id: string }
      expect((await sse.waitForMessages(1))[0]).toEqual({ id, event: 'message', data: 'with a token' })
      // The token covers bin/** only.
      expect((await publishText(server.base, 'elsewhere', 'no', token)).status).toBe(403)
      sse.close()
    } finally {
      server.child.kill('SIGKILL')
    }
  }, 30_000)

  test('with --jwt-key FILE (an ES256 public key PEM): jose inside the binary accepts an ES256 token and refuses an HS256 one', async () => {
    const keys = mkdtempSync(join(tmpdir(), 'herald-keys-'))
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
    const pem = join(keys, 'public.pem')
    writeFileSync(pem, await exportSPKI(publicKey))
    const server = await start(['--jwt-key', pem])
    try {
      const line = JSON.parse(server.logs.find((entry) => entry.includes('herald started')) as string) as Record<string, unknown>
      expect(line).toMatchObject({ jwtKey: pem })
      const token = await new SignJWT({ sub: 'svc', herald: { publish: ['bin/**'] } }).setProtectedHeader({ alg: 'ES256' }).setIssuedAt().setExpirationTime('10m').sign(privateKey)
      expect((await publishText(server.base, 'bin/es256', 'signed with ES256', token)).status).toBe(200)
      // The algorithm is pinned by the key: an HS256 token (here keyed with the PEM text itself, the key-confusion attack) is refused.
      const confused = await new SignJWT({ sub: 'svc', herald: { publish: ['bin/**'] } }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(new TextEncoder().encode(await exportSPKI(publicKey)))
      const refused = await publishText(server.base, 'bin/es256', 'confused', confused)
      expect(refused.status).toBe(401)
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('invalid_token')
    } finally {
      server.child.kill('SIGKILL')
      rmSync(keys, { recursive: true, force: true })
    }
  }, 30_000)

  test('with --public news/**: an anonymous SSE reader gets news, and 401 missing_token for chat', async () => {
    const server = await start(['--jwt-secret', secret, '--public', 'news/**'])
    try {
      const news = await SseClient.open(`${server.base}/events?topic=news/**`)
      expect(news.status).toBe(200)
      const chat = await SseClient.open(`${server.base}/events?topic=chat/room-1`)
      expect(chat.status).toBe(401)
      expect(chat.headers.get('www-authenticate')).toStartWith('Bearer')
      expect(JSON.parse(chat.raw)).toMatchObject({ error: { code: 'missing_token' } })
      const minted = await runCli({ argv: [binary], cwd: emptyDir }, ['token', '--sub', 'desk', '--publish', 'news/**', '--ttl', '1m'], { env: { HERALD_JWT_SECRET: secret } })
      const published = await publishText(server.base, 'news/tech', 'public news', minted.stdout.trim())
      expect(published.status).toBe(200)
      const { id } = (await published.json()) as { id: string }
      expect((await news.waitForMessages(1))[0]).toEqual({ id, event: 'message', data: 'public news' })
      news.close()
    } finally {
      server.child.kill('SIGKILL')
    }
  }, 30_000)
})

describe('start-up failures of the binary, from an empty directory', () => {
  startupFailureTests(() => ({ argv: [binary], cwd: emptyDir }))
})

describe('the binary, alone in an empty directory', () => {
  let server: RunningCli
  beforeAll(async () => {
    server = await start(['--history', '50'])
  })
  afterAll(() => {
    server.child.kill('SIGKILL')
  })

  test('logs one JSON start line with the address, version and changed options', () => {
    const line = JSON.parse(server.logs.find((l) => l.includes('herald started')) as string) as Record<string, unknown>
    expect(line).toMatchObject({ level: 'info', msg: 'herald started', version: VERSION, historySize: 50, host: '127.0.0.1' })
    expect(line).not.toHaveProperty('keepAliveMs') // unchanged options are not repeated
  })

  test('serves the Swagger UI and its embedded assets, referencing no external host', async () => {
    const html = await (await fetch(`${server.base}/swagger`)).text()
    expect(html).not.toMatch(/https?:\/\//)
    for (const [path, type] of [
      ['/swagger/assets/swagger-ui-bundle.js', 'text/javascript'],
      ['/swagger/assets/swagger-ui.css', 'text/css'],
      ['/swagger/json', 'application/json'],
    ]) {
      const response = await fetch(`${server.base}${path}`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toStartWith(type as string)
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(1000)
    }
  })

  test('serves every page and vendored browser script, byte for byte, with its content type and caching headers', async () => {
    expect(Object.keys(PAGES).length).toBeGreaterThan(5)
    for (const [path, asset] of Object.entries(PAGES)) {
      const response = await fetch(`${server.base}${path}`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe(asset.type)
      expect(response.headers.get('etag')).toBeTruthy()
      const body = new Uint8Array(await response.arrayBuffer())
      // The test reads the source tree; the binary in its empty directory cannot.
      expect(Bun.hash(body)).toBe(Bun.hash(await Bun.file(asset.path).arrayBuffer()))
      const again = await fetch(`${server.base}${path}`, { headers: { 'if-none-match': response.headers.get('etag') as string } })
      expect(again.status).toBe(304)
    }
    const feed = await fetch(`${server.base}/feed`)
    expect(feed.status).toBe(200)
    expect(await feed.text()).toContain('hx-ext')
  })

  test('serves the client at /client/herald.js: a module that imports, subscribes and publishes against the binary', async () => {
    const response = await fetch(`${server.base}/client/herald.js`)
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    const file = join(buildDir, 'herald-client.js')
    await Bun.write(file, await response.text())
    const client = (await import(file)) as typeof import('../src/client/index')
    const herald = client.connect({ url: server.base })
    for (const transport of ['ws', 'sse'] as const) {
      let open = false
      const items = herald.subscribe('bin/client', { transport, onOpen: () => (open = true) })
      const first = items.next()
      await waitFor(() => open, `the ${transport} subscription`)
      const { id } = await herald.publish('bin/client', { from: 'the served client' })
      expect((await first).value).toMatchObject({ type: 'event', id, data: { from: 'the served client' } })
      await items.return()
    }
    expect(await herald.publish('bad topic', 1).catch((error: unknown) => (error as { code?: string }).code)).toBe('invalid_topic')
  })

  test('publish reaches SSE and WebSocket subscribers', async () => {
    const sse = await SseClient.open(`${server.base}/events?topic=bin/t`)
    const ws = await WsClient.open(`${server.base.replace('http', 'ws')}/ws?topic=bin/*`)
    await ws.waitFor((m) => m.type === 'subscribed', 'subscribed')
    const response = await fetch(`${server.base}/topics/bin/t`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'from the binary' })
    const { id } = (await response.json()) as { id: string }
    expect((await sse.waitForMessages(1))[0]).toEqual({ id, event: 'message', data: 'from the binary' })
    expect(await ws.waitFor((m) => m.type === 'event', 'event')).toMatchObject({ id, data: 'from the binary' })
    sse.close()
    ws.close()
  })
})

test('SIGTERM with clients connected: SSE streams end with a retry hint, WebSockets close with 1001, exit 0', async () => {
  const server = await start()
  const sse = await SseClient.open(`${server.base}/events?topic=bye`)
  const ws = await WsClient.open(`${server.base.replace('http', 'ws')}/ws?topic=bye`)
  await ws.waitFor((m) => m.type === 'subscribed', 'subscribed')
  await fetch(`${server.base}/topics/bye`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'last words' })
  await sse.waitForMessages(1)
  server.child.kill('SIGTERM')
  expect(await server.child.exited).toBe(0)
  await waitFor(() => sse.ended, 'the SSE stream to end')
  expect(sse.messages.map((e) => e.event)).toEqual(['message', 'shutdown'])
  expect(sse.raw).toContain('retry: 3000\nevent: shutdown\n')
  await waitFor(() => ws.closeCode, 'the WebSocket close')
  expect(ws.closeCode).toBe(1001)
  expect(server.logs.some((line) => line.includes('"stopped"'))).toBe(true)
}, 20_000)

test('--static serves a folder of the user beside the hub, from the binary', async () => {
  const site = mkdtempSync(join(tmpdir(), 'herald-site-'))
  writeFileSync(join(site, 'index.html'), '<!doctype html><title>my front-end</title>')
  const server = await start(['--static', site])
  try {
    expect(await (await fetch(`${server.base}/`)).text()).toContain('my front-end')
    expect((await fetch(`${server.base}/chat.html`)).status).toBe(200)
    expect((await fetch(`${server.base}/healthz`)).status).toBe(200)
  } finally {
    server.child.kill('SIGKILL')
    rmSync(site, { recursive: true, force: true })
  }
})

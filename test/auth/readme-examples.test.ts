/**
 * The README's auth examples ("Examples, client by client"), run as written: every block after a
 * `<!-- readme-example: NAME -->` marker is extracted from README.md and run against a real Herald:
 * shell blocks with bash (curl, and `herald` = this repo's CLI), TypeScript blocks with bun (written
 * into test-artifacts/ so `herald` and `jose` resolve), browser blocks in Chromium on a page of the
 * README's own host app, with tokens that expire every few seconds so the refresh paths run. The
 * claims table is checked row by row against Herald's authenticator. The only edits the test makes
 * are the address, the port and the token lifetime, each replaced where it occurs exactly once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { SignJWT } from 'jose'
import type { Browser, Page } from 'playwright-core'
import { createAuthenticator } from '../../src/auth/authenticator'
import { signToken } from '../../src/auth/sign'
import { DEFAULTS } from '../../src/config'
import { parseSelector } from '../../src/hub/topics'
import { launchBrowser } from '../browser/browser'
import { startCli } from '../cli'
import { SseClient, startServer, type TestServer, waitFor } from '../helpers'

const ROOT = join(import.meta.dir, '../..')
const DIR = join(ROOT, 'test-artifacts', 'readme-examples')
const MAIN = join(ROOT, 'src/main.ts')
const SECRET = 'readme-examples-secret-0123456789-abcdefghij'
const README_BASE = 'http://localhost:3000'
const README = await Bun.file(join(ROOT, 'README.md')).text()
const verifier = createAuthenticator({ ...DEFAULTS, jwtSecret: SECRET })

/**
 * Whether the typed client takes `token` yet (another branch adds it): the two client examples run
 * once it does. Read from the source, so they start running by themselves when it lands.
 */
const CLIENT_TAKES_TOKEN = /\n\s+token\??:/.test(/interface ConnectOptions \{[\s\S]*?\n\}/.exec(await Bun.file(join(ROOT, 'src/client/types.ts')).text())?.[0] ?? '')

interface Example {
  lang: string
  code: string
}

/** The fenced block right after `<!-- readme-example: NAME -->`. */
function example(name: string): Example {
  const marker = README.indexOf(`<!-- readme-example: ${name} -->`)
  if (marker === -1) throw new Error(`README.md has no <!-- readme-example: ${name} --> marker`)
  const block = /^```(\w+)\n([\s\S]*?)^```$/m.exec(README.slice(marker))
  if (!block?.[1] || block[2] === undefined) throw new Error(`no fenced block after the ${name} marker`)
  return { lang: block[1], code: block[2] }
}

/** `code` with `from` replaced by `to`; `from` must occur exactly once (so the README and the test cannot drift apart). */
function once(code: string, from: string, to: string): string {
  const count = code.split(from).length - 1
  if (count !== 1) throw new Error(`expected ${JSON.stringify(from)} once in the example, found it ${count} times`)
  return code.replace(from, to)
}

/** Runs a shell example with bash -eu: `herald` is this repo's CLI (or `herald` given), Herald is at `base`; `env` is added. */
async function runShell(code: string, options: { base?: string; cwd?: string; herald?: string; env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const herald = options.herald ?? `herald() { bun ${JSON.stringify(MAIN)} "$@"; }`
  const body = options.base ? code.replaceAll(README_BASE, options.base) : code
  const child = Bun.spawn(['bash', '-euo', 'pipefail', '-c', `${herald}\n${body}`], { cwd: options.cwd ?? ROOT, env: { ...process.env, HERALD_JWT_SECRET: SECRET, ...options.env }, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exit] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  return { code: exit, stdout, stderr }
}

/** Writes a TypeScript example into test-artifacts/readme-examples/NAME.ts (`after` appended) and returns the path. */
function writeTs(name: string, code: string, after = ''): string {
  mkdirSync(DIR, { recursive: true })
  const path = join(DIR, `${name}.ts`)
  writeFileSync(path, `${code}${after}`)
  return path
}

/** Runs a TypeScript example with bun; its stdout (the test appends what it prints). */
async function runTs(name: string, code: string, after: string, cwd = ROOT): Promise<string> {
  const child = Bun.spawn(['bun', writeTs(name, code, after)], { cwd, env: { ...process.env, HERALD_JWT_SECRET: SECRET }, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exit] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  if (exit !== 0) throw new Error(`${name} exited ${exit}: ${stderr}`)
  return stdout
}

/** Hands each piece of `stream`'s text to `add` as it comes. */
async function collect(stream: ReadableStream<Uint8Array>, add: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder()
  const reader = stream.getReader()
  for (let read = await reader.read(); !read.done; read = await reader.read()) add(decoder.decode(read.value, { stream: true }))
}

let server: TestServer
beforeAll(async () => {
  server = await startServer({ jwtSecret: SECRET })
})
afterAll(() => server?.stop())

describe('minting', () => {
  test('herald token (mint-cli): the two tokens have exactly the rights the comments say', async () => {
    const { lang, code } = example('mint-cli')
    expect(lang).toBe('sh')
    const result = await runShell(code)
    expect(result).toMatchObject({ code: 0, stderr: '' })
    const [ada, billing] = result.stdout.trim().split('\n')
    const reader = await verifier.verify(ada as string)
    expect(reader.subject).toBe('ada')
    expect(reader.maySubscribe(parseSelector('users/ada/**'))).toBe(true)
    expect(reader.maySubscribe(parseSelector('users/bob/inbox'))).toBe(false)
    expect(reader.mayPublish('users/ada/inbox')).toBe(false)
    const backend = await verifier.verify(billing as string)
    expect(backend.mayPublish('orders/42')).toBe(true)
    expect(backend.mayPublish('users/ada/orders')).toBe(true)
    expect(backend.mayPublish('users/ada/inbox')).toBe(false)
    expect(backend.expiresAt).toBeLessThanOrEqual(Date.now() + 15 * 60_000 + 31_000)
  })

  test.each(['mint-sign-token', 'mint-jose-hs256'])('%s: Herald accepts the token, with its claims', async (name) => {
    const { lang, code } = example(name)
    expect(lang).toBe('ts')
    const token = (await runTs(name, code, '\nconsole.log(token)\n')).trim()
    const principal = await verifier.verify(token)
    expect(principal.subject).toBe('ada')
    expect(principal.maySubscribe(parseSelector('users/ada/inbox'))).toBe(true)
    expect(principal.maySubscribe(parseSelector('users/*/inbox'))).toBe(false)
    expect(principal.mayPublish('chat/lobby')).toBe(true)
    expect(principal.expiresAt).toBeGreaterThan(Date.now() + 14 * 60_000)
  })

  test('es256-keys and mint-jose-es256: the openssl lines make a key pair, Herald runs with the public half, and accepts the token signed with the private one', async () => {
    const work = mkdtempSync(join(tmpdir(), 'herald-es256-'))
    try {
      const keys = example('es256-keys')
      expect(keys.lang).toBe('sh')
      // `herald` here records its arguments; the test starts Herald with them.
      const result = await runShell(keys.code, { cwd: work, herald: `herald() { printf '%s\\n' "$@" > herald-args; }` })
      expect(result).toMatchObject({ code: 0 })
      expect(existsSync(join(work, 'private.pem')) && existsSync(join(work, 'public.pem'))).toBe(true)
      const args = (await Bun.file(join(work, 'herald-args')).text()).trim().split('\n')
      expect(args).toEqual(['--jwt-key', 'public.pem'])
      const herald = await startCli({ argv: ['bun', MAIN], cwd: work }, args)
      try {
        const mint = example('mint-jose-es256')
        const token = (await runTs('mint-jose-es256', mint.code, '\nconsole.log(token)\n', work)).trim()
        const sse = await SseClient.open(`${herald.base}/events?topic=users/ada/**`, { authorization: `Bearer ${token}` })
        expect(sse.status).toBe(200)
        sse.close()
        // Only that key: an HS256 token is refused.
        const hs = signToken({ secret: SECRET, sub: 'ada', subscribe: ['users/{sub}/**'], ttlMs: 60_000 })
        expect((await SseClient.open(`${herald.base}/events?topic=users/ada/**`, { authorization: `Bearer ${hs}` })).status).toBe(401)
      } finally {
        herald.child.kill('SIGKILL')
      }
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  }, 30_000)
})

describe('curl', () => {
  test('curl-publish: the publish with the token answers its id and reaches a subscriber; the one without is 401 with WWW-Authenticate', async () => {
    const { lang, code } = example('curl-publish')
    expect(lang).toBe('sh')
    const reader = signToken({ secret: SECRET, sub: 'ops', subscribe: ['orders/**'], ttlMs: 60_000 })
    const sse = await SseClient.open(`${server.base}/events?topic=orders/42`, { authorization: `Bearer ${reader}` })
    try {
      const result = await runShell(code, { base: server.base })
      expect(result.code).toBe(0)
      const id = /\{"id":"([^"]+)","topic":"orders\/42"\}/.exec(result.stdout)?.[1]
      expect(id).toBeDefined()
      expect(result.stdout).toContain('HTTP/1.1 401 Unauthorized')
      expect(result.stdout.toLowerCase()).toContain('www-authenticate: bearer')
      expect(result.stdout).toContain('{"error":{"code":"missing_token","message":"publishing needs a token: ')
      expect(await sse.waitForMessages(1)).toEqual([{ id: id as string, event: 'message', data: '{"status":"paid"}' }])
    } finally {
      sse.close()
    }
  }, 30_000)

  test('curl-subscribe: curl prints the events of users/ada/**, private ones included', async () => {
    const { lang, code } = example('curl-subscribe')
    expect(lang).toBe('sh')
    // `exec`, so killing the shell stops curl too.
    const script = once(code, 'curl -N', 'exec curl -N').replaceAll(README_BASE, server.base)
    const child: Subprocess<'ignore', 'pipe', 'pipe'> = Bun.spawn(['bash', '-euo', 'pipefail', '-c', `herald() { bun ${JSON.stringify(MAIN)} "$@"; }\n${script}`], { cwd: ROOT, env: { ...process.env, HERALD_JWT_SECRET: SECRET }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
    let output = ''
    void collect(child.stdout, (text) => (output += text))
    try {
      await waitFor(() => output.startsWith('retry:'), 'curl to print the start of the stream', 15_000)
      const [event] = await server.hub.publish([{ topic: 'users/ada/inbox', data: 'for ada only', private: true }])
      await waitFor(() => output.includes(`id: ${event?.id}\ndata: for ada only\n`), 'the private event in curl\'s output')
    } finally {
      child.kill('SIGKILL')
      await child.exited
    }
  }, 30_000)
})

describe('one specific user (one-user-token, one-user-publish)', () => {
  test("user 42's token reads users/42/**; the backend's private notice reaches it and no one else", async () => {
    const minted = await runShell(example('one-user-token').code)
    expect(minted).toMatchObject({ code: 0, stderr: '' })
    const user = minted.stdout.trim()
    const other = signToken({ secret: SECRET, sub: '43', subscribe: ['users/{sub}/**'], ttlMs: 60_000 })
    expect((await SseClient.open(`${server.base}/events?topic=users/42/**`, { authorization: `Bearer ${other}` })).status).toBe(403)
    const mine = await SseClient.open(`${server.base}/events?topic=users/42/**`, { authorization: `Bearer ${user}` })
    const backend = signToken({ secret: SECRET, sub: 'backend', publish: ['users/*/notices'], ttlMs: 60_000 })
    try {
      const published = await runShell(example('one-user-publish').code, { base: server.base, env: { BACKEND_TOKEN: backend } })
      expect(published.code).toBe(0)
      const id = /\{"id":"([^"]+)","topic":"users\/42\/notices"\}/.exec(published.stdout)?.[1]
      expect(id).toBeDefined()
      expect(await mine.waitForMessages(1)).toEqual([{ id: id as string, event: 'notice', data: '{"text":"Your export is ready"}' }])
    } finally {
      mine.close()
    }
  })
})

/** The README's host app as a process (port 0, `replace`d lines), and its address. */
interface HostApp {
  base: string
  stop(): Promise<void>
}

async function startHostApp(name: string, edit: (code: string) => string = (code) => code): Promise<HostApp> {
  const { lang, code } = example('host-app')
  expect(lang).toBe('ts')
  const runnable = `${once(edit(code), '.listen(3000)', ".listen({ port: 0, hostname: '127.0.0.1' })")}\nconsole.log(\`port=\${app.server?.port}\`)\n`
  const child = Bun.spawn(['bun', writeTs(name, runnable)], { cwd: ROOT, env: { ...process.env, HERALD_JWT_SECRET: SECRET }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  let stdout = ''
  void collect(child.stdout, (text) => (stdout += text))
  const port = await waitFor(() => /port=(\d+)/.exec(stdout)?.[1] ?? (child.exitCode !== null ? 'exited' : undefined), 'the host app to print its port', 15_000)
  if (port === 'exited') throw new Error(`the README host app did not start: ${await new Response(child.stderr).text()}`)
  return {
    base: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGKILL')
      await child.exited
    },
  }
}

describe('the host app (host-app)', () => {
  let app: HostApp
  beforeAll(async () => {
    app = await startHostApp('host-app')
  })
  afterAll(() => app?.stop())

  test('POST /session sets the token in an HttpOnly, SameSite=Strict cookie for 15 minutes and answers the topic; GET /token answers the same rights', async () => {
    const session = await fetch(`${app.base}/session`, { method: 'POST' })
    expect(session.status).toBe(200)
    expect(await session.json()).toEqual({ topic: 'users/ada/**' })
    const cookie = session.headers.get('set-cookie') as string
    expect(cookie).toMatch(/^herald_token=[\w-]+\.[\w-]+\.[\w-]+;/)
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Strict')
    expect(cookie).toContain('Path=/')
    expect(cookie).toContain('Max-Age=900')
    const fromCookie = await verifier.verify(/^herald_token=([^;]+)/.exec(cookie)?.[1] as string)
    const fromRoute = await verifier.verify(await (await fetch(`${app.base}/token`)).text())
    for (const principal of [fromCookie, fromRoute]) {
      expect(principal.subject).toBe('ada')
      expect(principal.maySubscribe(parseSelector('users/ada/**'))).toBe(true)
      expect(principal.maySubscribe(parseSelector('users/**'))).toBe(false)
      expect(principal.mayPublish('users/ada/orders')).toBe(false)
    }
  })

  test('the app publishes (trusted code) a private event that only the user\'s token reads; nobody publishes without a token', async () => {
    const token = await (await fetch(`${app.base}/token`)).text()
    const mine = await SseClient.open(`${app.base}/events?topic=users/ada/**`, { authorization: `Bearer ${token}` })
    const bob = signToken({ secret: SECRET, sub: 'bob', subscribe: ['users/{sub}/**'], ttlMs: 60_000 })
    expect((await SseClient.open(`${app.base}/events?topic=users/ada/**`, { authorization: `Bearer ${bob}` })).status).toBe(403)
    expect((await SseClient.open(`${app.base}/events?topic=users/ada/**`)).status).toBe(401)
    try {
      const shipped = await fetch(`${app.base}/orders/7/ship`, { method: 'POST' })
      expect(shipped.status).toBe(200)
      const { id, topic } = (await shipped.json()) as { id: string; topic: string }
      expect(topic).toBe('users/ada/orders')
      expect(await mine.waitForMessages(1)).toEqual([{ id, event: 'message', data: '{"order":"7","status":"shipped"}' }])
      const forged = await fetch(`${app.base}/topics/users/ada/orders`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'forged' })
      expect(forged.status).toBe(401)
    } finally {
      mine.close()
    }
  })
})

/** The browser examples, each on its own page of the host app (its /healthz: same origin, no page CSP). */
const BROWSER_EXAMPLES = ['browser-sse-cookie', 'browser-sse-query', 'browser-ws', ...(CLIENT_TAKES_TOKEN ? ['browser-client'] : [])]

interface ExamplePage {
  name: string
  page: Page
  /** `[id, data]` of each console.log, in order. */
  logged: [string, unknown][]
  /** Paths the page requested (fetch, EventSource), in order. */
  requests: string[]
  websockets: number
  errors: string[]
  /** `status path` of every answer of 400 or more (a browser's own /favicon.ico aside). */
  refused: string[]
}

describe('in the browser, with tokens that expire every few seconds', () => {
  let app: HostApp
  let browser: Browser
  beforeAll(async () => {
    // 4 s tokens and no clock tolerance: every page goes through its expiry and refresh path twice or more.
    ;[app, browser] = await Promise.all([
      startHostApp('host-app-short', (code) => once(once(code, 'const TOKEN_TTL_MS = 15 * 60_000', 'const TOKEN_TTL_MS = 4_000'), 'herald({ jwtSecret: secret })', 'herald({ jwtSecret: secret, jwtClockToleranceMs: 0 })')),
      launchBrowser(),
    ])
  }, 30_000)
  afterAll(async () => {
    await browser?.close()
    await app?.stop()
  })

  async function open(name: string): Promise<ExamplePage> {
    const { lang, code } = example(name)
    expect(lang).toBe('js')
    const context = await browser.newContext()
    const page = await context.newPage()
    const opened: ExamplePage = { name, page, logged: [], requests: [], websockets: 0, errors: [], refused: [] }
    page.on('console', async (message) => {
      if (message.type() === 'error') opened.errors.push(message.text())
      if (message.type() !== 'log') return
      const [id, data] = await Promise.all(message.args().map((arg) => arg.jsonValue()))
      opened.logged.push([id as string, data])
    })
    page.on('pageerror', (error) => opened.errors.push(error.message))
    page.on('request', (request) => opened.requests.push(new URL(request.url()).pathname))
    page.on('websocket', () => opened.websockets++)
    page.on('response', (response) => {
      const path = new URL(response.url()).pathname
      if (response.status() >= 400 && path !== '/favicon.ico') opened.refused.push(`${response.status()} ${path}`)
    })
    await page.goto(`${app.base}/healthz`)
    await page.addScriptTag({ type: 'module', content: code })
    return opened
  }

  test(`${BROWSER_EXAMPLES.join(', ')}: every page gets every event exactly once, in order, across token expiries`, async () => {
    const pages: ExamplePage[] = []
    for (const name of BROWSER_EXAMPLES) pages.push(await open(name))
    try {
      const subscribers = async () => ((await (await fetch(`${app.base}/stats`)).json()) as { subscribers: number }).subscribers
      await waitFor(async () => (await subscribers()) === pages.length, `${pages.length} subscribers`, 10_000)
      const ids: string[] = []
      // About 10 s of orders: two or three token lifetimes.
      for (let n = 0; n < 20; n++) {
        const shipped = (await (await fetch(`${app.base}/orders/${n}/ship`, { method: 'POST' })).json()) as { id: string }
        ids.push(shipped.id)
        await Bun.sleep(500)
      }
      for (const opened of pages) {
        await waitFor(() => opened.logged.length >= ids.length, `${opened.name} to log ${ids.length} events (has ${opened.logged.length})`, 15_000)
        expect({ name: opened.name, ids: opened.logged.map(([id]) => id) }).toEqual({ name: opened.name, ids })
        expect(opened.logged[3]?.[1]).toEqual({ order: '3', status: 'shipped' })
        // Chromium logs every 4xx as "Failed to load resource"; `refused` says which (none but the favicon).
        expect({ name: opened.name, errors: opened.errors.filter((error) => !error.startsWith('Failed to load resource')), refused: opened.refused }).toEqual({ name: opened.name, errors: [], refused: [] })
      }
      const [cookie, query, ws] = pages as [ExamplePage, ExamplePage, ExamplePage]
      const count = (opened: ExamplePage, path: string) => opened.requests.filter((requested) => requested === path).length
      // The expiry paths ran: the SSE pages reconnected with a renewed cookie / a fresh token in the URL,
      // the WebSocket refreshed its token on the one socket it opened.
      expect(count(cookie, '/events')).toBeGreaterThanOrEqual(2)
      expect(count(cookie, '/session')).toBeGreaterThanOrEqual(2)
      expect(count(query, '/events')).toBeGreaterThanOrEqual(2)
      expect(count(query, '/token')).toBeGreaterThanOrEqual(2)
      expect(count(ws, '/token')).toBeGreaterThanOrEqual(3)
      expect(ws.websockets).toBe(1)
      // The cookie page's script never saw its token.
      expect(await cookie.page.evaluate(() => document.cookie)).toBe('')
    } finally {
      for (const opened of pages) await opened.page.context().close()
    }
  }, 60_000)
})

describe('the client with a token', () => {
  test.skipIf(!CLIENT_TAKES_TOKEN)('bun-client: publishes with a token it mints itself; a subscriber gets the event', async () => {
    const { lang, code } = example('bun-client')
    expect(lang).toBe('ts')
    const reader = signToken({ secret: SECRET, sub: 'ops', subscribe: ['orders/**'], ttlMs: 60_000 })
    const sse = await SseClient.open(`${server.base}/events?topic=orders/42`, { authorization: `Bearer ${reader}` })
    try {
      await runTs('bun-client', once(code, README_BASE, server.base), '\nherald.close()\n')
      const [event] = await sse.waitForMessages(1)
      expect(event?.data).toBe('{"status":"paid"}')
    } finally {
      sse.close()
    }
  }, 30_000)
})

describe('the claims table (claims-table)', () => {
  /** The rows of the table after the marker: [who, claims, may, may not]. */
  function rows(): string[][] {
    const marker = README.indexOf('<!-- readme-example: claims-table -->')
    expect(marker).toBeGreaterThan(-1)
    const lines = README.slice(marker).split('\n').slice(1)
    const table = lines.slice(0, lines.findIndex((line) => !line.startsWith('|')))
    return table.slice(2).map((line) => line.split(' | ').map((cell) => cell.replace(/^\| ?| ?\|$/g, '').trim()))
  }

  /** `subscribe \`a\`, \`b\`; publish \`c\`` → [['subscribe', 'a'], ['subscribe', 'b'], ['publish', 'c']]. */
  function rights(cell: string): [string, string][] {
    return cell.split(';').flatMap((clause) => {
      const verb = /^\s*(subscribe|publish)\s/.exec(clause)?.[1]
      if (!verb) return []
      return [...clause.matchAll(/`([^`]+)`/g)].map((match) => [verb, match[1] as string] as [string, string])
    })
  }

  test('every row: the claims as a token, what it may and may not do', async () => {
    const table = rows()
    expect(table.length).toBeGreaterThanOrEqual(5)
    let checked = 0
    for (const [who, claims, may, mayNot] of table) {
      const payload = JSON.parse((claims as string).replace(/^`|`$/g, '')) as Record<string, unknown>
      const token = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(SECRET))
      const principal = await verifier.verify(token)
      const can = (verb: string, what: string) => (verb === 'publish' ? principal.mayPublish(what) : principal.maySubscribe(parseSelector(what)))
      for (const [verb, what] of rights(may as string)) {
        expect({ who, verb, what, allowed: can(verb, what) }).toEqual({ who, verb, what, allowed: true })
        checked++
      }
      for (const [verb, what] of rights(mayNot as string)) {
        expect({ who, verb, what, allowed: can(verb, what) }).toEqual({ who, verb, what, allowed: false })
        checked++
      }
    }
    expect(checked).toBeGreaterThan(30)
  })
})

test('the TypeScript examples type-check with the repo tsconfig (strict)', async () => {
  const names = ['mint-sign-token', 'mint-jose-hs256', 'mint-jose-es256', 'host-app', ...(CLIENT_TAKES_TOKEN ? ['bun-client'] : [])]
  for (const name of names) writeTs(`typecheck-${name}`, example(name).code)
  const config = join(DIR, 'tsconfig.json')
  writeFileSync(config, JSON.stringify({ extends: '../../tsconfig.json', include: names.map((name) => `typecheck-${name}.ts`) }))
  const tsc = Bun.spawn([join(ROOT, 'node_modules/.bin/tsc'), '--noEmit', '-p', config], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  const [out, code] = await Promise.all([new Response(tsc.stdout).text(), tsc.exited])
  expect(out).toBe('')
  expect(code).toBe(0)
}, 60_000)

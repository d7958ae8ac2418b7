/**
 * The package as a user gets it: `bun pm pack` (whose `prepack` emits the .d.ts), installed from
 * the tarball into a fresh app outside the repo, imported by name, type-checked with tsc against
 * the emitted types under strict settings, run, and used over HTTP, SSE and a generator route.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { SseClient, waitFor } from '../helpers'

const ROOT = join(import.meta.dir, '../..')

/**
 * The package's entry points (keys of `exports`) and names each must export at run time; each is
 * also imported by name and type-checked in the consumer app. A new entry point is one line here.
 */
const ENTRY_POINTS: Record<string, string[]> = {
  '.': ['herald', 'heraldWebSocket', 'sse', 'HubError', 'HeraldEvent', 'HeraldReset', 'HeraldSubscription', 'SseFrame'],
  './client': ['connect', 'HeraldError'],
}

interface PackageJson {
  name: string
  version: string
  types?: string
  exports: Record<string, string | Record<string, string>>
  peerDependencies?: Record<string, string>
  devDependencies: Record<string, string>
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson
const installedVersion = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
const specifier = (entry: string) => (entry === '.' ? pkg.name : `${pkg.name}/${entry.slice(2)}`)
const target = (entry: string, condition: string) => {
  const value = pkg.exports[entry]
  return typeof value === 'string' ? value : value?.[condition]
}

let scratch: string
let app: string
let tarball: string
let files: string[]
let child: Subprocess<'ignore', 'pipe', 'pipe'> | undefined

/** Runs a command to its end, at most `ms`; returns its exit code and output. */
async function run(argv: string[], cwd: string, ms: number, env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(argv, { cwd, env: { ...process.env, ...env }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const timer = setTimeout(() => proc.kill('SIGKILL'), ms)
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  clearTimeout(timer)
  return { code: proc.signalCode === 'SIGKILL' ? -1 : code, out: `${out}${err}` }
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'herald-pack-'))
  app = join(scratch, 'app')
  // Types from an earlier build must not stand in for the ones prepack is supposed to emit.
  rmSync(join(ROOT, 'dist/types'), { recursive: true, force: true })
  const packed = await run(['bun', 'pm', 'pack', '--destination', scratch, '--quiet'], ROOT, 30_000)
  if (packed.code !== 0) throw new Error(`bun pm pack failed: ${packed.out}`)
  tarball = join(scratch, `${pkg.name}-${pkg.version}.tgz`)
  files = (await run(['tar', '-tzf', tarball], scratch, 10_000)).out.split('\n').filter(Boolean).map((line) => line.replace(/^package\//, ''))

  mkdirApp()
  const installed = await run(['bun', 'install', '--no-progress'], app, 45_000)
  if (installed.code !== 0) throw new Error(`bun install in the fresh app failed: ${installed.out}`)
}, 90_000)

/** A fresh app: the tarball, the Elysia the repo uses, Bun's types; and the consumer's files. */
function mkdirApp(): void {
  cpSync(join(import.meta.dir, 'consumer'), app, { recursive: true })
  const dependencies = { [pkg.name]: tarball, elysia: installedVersion('elysia') }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'herald-consumer', private: true, type: 'module', dependencies, devDependencies: { '@types/bun': installedVersion('@types/bun') } }, null, 2))
  const entries = Object.keys(ENTRY_POINTS)
  const imports = entries.map((entry, i) => `import * as entry${i} from '${specifier(entry)}'`)
  writeFileSync(join(app, 'entries.ts'), `${imports.join('\n')}\nconsole.log(JSON.stringify({ ${entries.map((entry, i) => `'${entry}': Object.keys(entry${i})`).join(', ')} }))\n`)
}

afterAll(async () => {
  child?.kill('SIGKILL')
  await child?.exited
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

test('the tarball holds what the exports name: prepack emitted the .d.ts of every entry point', () => {
  expect(files).toContain('package.json')
  expect(pkg.types).toBe(target('.', 'types'))
  for (const entry of Object.keys(ENTRY_POINTS)) {
    for (const condition of ['types', 'bun', 'default']) {
      const path = target(entry, condition)?.replace(/^\.\//, '')
      expect(path ? `${entry} ${condition}: ${path} ${files.includes(path) ? 'packed' : 'MISSING'}` : `${entry} has no ${condition}`).toBe(`${entry} ${condition}: ${path} packed`)
    }
  }
  // No tests, benches or build output other than the types.
  expect(files.filter((file) => /^(test|bench|scripts|node_modules|examples)\//.test(file))).toEqual([])
})

test('the app gets one Elysia, its own: elysia is a peer dependency of the package', () => {
  expect(pkg.peerDependencies?.elysia).toBeDefined()
  expect(existsSync(join(app, 'node_modules/elysia/package.json'))).toBe(true)
  expect(existsSync(join(app, `node_modules/${pkg.name}/node_modules/elysia`))).toBe(false)
})

test('every entry point resolves by name at run time and exports its names', async () => {
  const { code, out } = await run(['bun', 'entries.ts'], app, 15_000)
  expect(code).toBe(0)
  const exported = JSON.parse(out) as Record<string, string[]>
  for (const [entry, names] of Object.entries(ENTRY_POINTS)) expect(exported[entry]).toEqual(expect.arrayContaining(names))
})

test('the app type-checks against the emitted .d.ts under strict settings', async () => {
  const { code, out } = await run([join(ROOT, 'node_modules/.bin/tsc'), '-p', '.', '--listFiles'], app, 60_000)
  const lines = out.split('\n')
  // The package's types come from dist/types, never from its .ts sources.
  const fromPackage = lines.filter((line) => line.includes(`/node_modules/${pkg.name}/`))
  expect(fromPackage.length).toBeGreaterThan(0)
  expect(fromPackage.filter((line) => !line.includes(`/node_modules/${pkg.name}/dist/types/`))).toEqual([])
  // skipLibCheck is off so the package's .d.ts are checked too; Elysia's own .d.ts do not pass
  // that check (Elysia 1.4.30, TypeScript 5.9), so its errors are the only ones allowed.
  const errors = lines.filter((line) => /\(\d+,\d+\): error TS/.test(line))
  expect(errors.filter((line) => !line.startsWith('node_modules/elysia/'))).toEqual([])
  if (errors.length === 0) expect(code).toBe(0)
}, 60_000)

test('the app runs: HTTP publish, SSE at /rt/events and its own generator route, with resume', async () => {
  const proc = Bun.spawn(['bun', 'app.ts'], { cwd: app, env: { ...process.env, PORT: '0' }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  child = proc
  let stdout = ''
  void (async () => {
    const decoder = new TextDecoder()
    const reader = proc.stdout.getReader()
    for (let read = await reader.read(); !read.done; read = await reader.read()) stdout += decoder.decode(read.value, { stream: true })
  })().catch(() => {})
  const port = (await waitFor(() => /port=(\d+)/.exec(stdout)?.[1] ?? (proc.exitCode !== null ? 'exited' : undefined), 'the app to print its port', 15_000)) as string
  if (port === 'exited') throw new Error(`the app did not start: ${await new Response(proc.stderr).text()}`)
  const base = `http://127.0.0.1:${port}`

  const events = await SseClient.open(`${base}/rt/events?topic=things/*`)
  const live = await SseClient.open(`${base}/things/1/live`)
  await waitFor(() => events.raw.startsWith('retry:') && live.raw.startsWith('retry:'), 'both streams to start')

  // Herald's HTTP publish API, then the app's own route that publishes from code.
  const viaHttp = await fetch(`${base}/rt/topics/things/1`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'from\nHTTP' })
  expect(viaHttp.status).toBe(200)
  const first = ((await viaHttp.json()) as { id: string }).id
  const viaCode = await fetch(`${base}/things/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":2}' })
  const second = ((await viaCode.json()) as { id: string; topic: string })
  expect(second.topic).toBe('things/1')

  const expected = [
    { id: first, event: 'message', data: 'from\nHTTP' },
    { id: second.id, event: 'thing', data: '{"n":2}' },
  ]
  expect(await events.waitForMessages(2)).toEqual(expected)
  expect(await live.waitForMessages(2)).toEqual(expected)
  expect(live.raw).toContain(`id: ${first}\ndata: from\ndata: HTTP\n\n`)
  events.close()
  live.close()

  const resumed = await SseClient.open(`${base}/things/1/live`, { 'last-event-id': first })
  expect(await resumed.waitForMessages(1)).toEqual(expected.slice(1))
  resumed.close()
  const startOver = await SseClient.open(`${base}/things/1/live`, { 'last-event-id': '1-0' })
  expect((await startOver.waitForMessages(1))[0]?.event).toBe('start-over')
  startOver.close()

  expect(await (await fetch(`${base}/bad`, { method: 'POST' })).text()).toBe('invalid_topic')
  // herald/client, imported by name: it published over HTTP and got the event back over each transport.
  expect(await waitFor(() => /client=(.+)/.exec(stdout)?.[1], 'the client round trip')).toBe('{"sse":"hello client","ws":"hello client"}')
  expect(((await (await fetch(`${base}/rt/healthz`)).json()) as { version: string }).version).toBe(pkg.version)
})

/**
 * The `herald` command as a user runs it, from source (`bun src/main.ts`) or as the compiled
 * binary: spawn it, read its start line, and the start-up failure checks that both forms must pass
 * (test/startup.test.ts runs them on the source, test/binary.test.ts on the binary).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { SseClient, waitFor } from './helpers'

/** How to run herald: the program and its leading arguments, and the directory to run it in. */
export interface CliCommand {
  argv: string[]
  cwd: string
}

/** A herald process that has logged its start line. */
export interface RunningCli {
  child: Subprocess<'ignore', 'pipe', 'pipe'>
  base: string
  port: number
  /** Every stderr line so far. */
  logs: string[]
}

/** Flags every test run uses: loopback only, and no feed database file. */
const QUIET = ['--host', '127.0.0.1', '--feed-db', ':memory:']

/** Starts herald (`--port 0` unless `args` names one) and waits for its JSON start line. `env` is added to this process's environment. */
export async function startCli(command: CliCommand, args: string[] = [], env: Record<string, string> = {}): Promise<RunningCli> {
  const child = Bun.spawn([...command.argv, ...QUIET, '--port', '0', '--log-format', 'json', ...args], { cwd: command.cwd, env: { ...process.env, ...env }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const logs: string[] = []
  ;(async () => {
    const decoder = new TextDecoder()
    const reader = child.stderr.getReader()
    let pending = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      pending += decoder.decode(value, { stream: true })
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      logs.push(...lines)
    }
  })()
  const started = (await waitFor(() => logs.find((line) => line.includes('herald started')) ?? (child.exitCode !== null && `exited ${child.exitCode}: ${logs.join('\n')}`), 'the start log line', 15_000)) as string
  if (!started.startsWith('{')) throw new Error(`herald did not start: ${started}`)
  const { address } = JSON.parse(started) as { address: string }
  return { child, base: address, port: Number(new URL(address).port), logs }
}

/**
 * Runs herald to its exit, at most `ms` (then kills it and reports code -1: it did not exit by
 * itself). `env` is added to this process's environment.
 */
export async function runCli(command: CliCommand, args: string[], { env = {}, ms = 10_000 }: { env?: Record<string, string>; ms?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([...command.argv, ...args], { cwd: command.cwd, env: { ...process.env, ...env }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const timer = setTimeout(() => child.kill('SIGKILL'), ms)
  const [stdout, stderr, exited] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  clearTimeout(timer)
  return { code: child.signalCode === 'SIGKILL' ? -1 : exited, stdout, stderr }
}

/** What a user must see when herald cannot start: nothing on stdout, one line on stderr, no stack or source. */
function expectOneLine(result: { stdout: string; stderr: string }): string {
  expect(result.stdout).toBe('')
  expect(result.stderr).toMatch(/^herald: [^\n]+\n$/)
  expect(result.stderr).not.toMatch(/\bat .*:\d+|Bun v\d|\^|\bthrow\b/)
  return result.stderr
}

/**
 * Every start-up failure: exactly one line on stderr saying what and how to fix it, and the exit
 * code --help lists for it. Call inside a describe block; `command` is read when the tests run.
 */
export function startupFailureTests(command: () => CliCommand): void {
  let scratch: string
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'herald-startup-'))
  })
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  test('--help lists the exit codes', async () => {
    const { code, stdout } = await runCli(command(), ['--help'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/Exit codes:\n {2}0 +.+\n {2}1 +.+\n {2}2 +.+bad option.*\n {2}3 +.+listen.*\n {2}4 +.+store/)
  })

  test.each([[['--bogus']], [['--port', '70000']], [['--store', 'postgres:x']]])('%p exits 2 with one line', async (args) => {
    const result = await runCli(command(), [...QUIET, ...args])
    expect(result.code).toBe(2)
    expect(expectOneLine(result)).toContain('herald --help')
  })

  test('a second herald on a busy port exits 3 with one line naming the port; the first keeps every event', async () => {
    const first = await startCli(command())
    try {
      const result = await runCli(command(), [...QUIET, '--port', String(first.port)])
      expect(result.code).toBe(3)
      const line = expectOneLine(result)
      expect(line).toContain(`127.0.0.1:${first.port}`)
      expect(line).toContain('in use')
      expect(line).toContain('--port')

      // Only the first is listening: a subscriber gets every event, /healthz always answers.
      const sse = await SseClient.open(`${first.base}/events?topic=busy/port`)
      for (let i = 0; i < 10; i++) {
        const response = await fetch(`${first.base}/topics/busy/port`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `event ${i}` })
        expect(response.status).toBe(200)
      }
      expect((await sse.waitForMessages(10)).map((event) => event.data)).toEqual(Array.from({ length: 10 }, (_, i) => `event ${i}`))
      sse.close()
      for (let i = 0; i < 10; i++) expect((await fetch(`${first.base}/healthz`)).status).toBe(200)
    } finally {
      first.child.kill('SIGKILL')
    }
  }, 30_000)

  test('an address that is not on this machine exits 3 with one line naming --host', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never assigned to a local interface.
    const result = await runCli(command(), ['--host', '192.0.2.1', '--port', '0', '--feed-db', ':memory:'])
    expect(result.code).toBe(3)
    const line = expectOneLine(result)
    expect(line).toContain('192.0.2.1')
    expect(line).toContain('--host')
  })

  test('a store in a directory that does not exist exits 4 with one line naming --store', async () => {
    const result = await runCli(command(), [...QUIET, '--port', '0', '--store', 'sqlite:/nonexistent/dir/x.db'])
    expect(result.code).toBe(4)
    const line = expectOneLine(result)
    expect(line).toContain('/nonexistent/dir/x.db')
    expect(line).toContain('--store')
  })

  test('a store file that is not a database exits 4 with one line', async () => {
    const path = join(scratch, 'not-a-database.db')
    writeFileSync(path, 'this is not sqlite, this is a shopping list\n'.repeat(200))
    const result = await runCli(command(), [...QUIET, '--port', '0', '--store', `sqlite:${path}`])
    expect(result.code).toBe(4)
    expect(expectOneLine(result)).toContain('--store')
  })

  test('a --jwt-key file that does not exist, or a private key, exits 2 with one line naming --jwt-key', async () => {
    const missing = await runCli(command(), [...QUIET, '--port', '0', '--jwt-key', '/nonexistent/public.pem'])
    expect(missing.code).toBe(2)
    expect(expectOneLine(missing)).toContain('--jwt-key')
    const path = join(scratch, 'private.pem')
    writeFileSync(path, '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB\n-----END PRIVATE KEY-----\n')
    const privateKey = await runCli(command(), [...QUIET, '--port', '0', '--jwt-key', path])
    expect(privateKey.code).toBe(2)
    expect(expectOneLine(privateKey)).toContain('public key')
  })

  test('a short HERALD_JWT_SECRET exits 2 with one line that names it and never shows it', async () => {
    const result = await runCli(command(), [...QUIET, '--port', '0'], { env: { HERALD_JWT_SECRET: 'hunter2-hunter2' } })
    expect(result.code).toBe(2)
    const line = expectOneLine(result)
    expect(line).toContain('HERALD_JWT_SECRET')
    expect(line).not.toContain('hunter2')
  })

  test('a --redis nothing answers exits 5 with one line naming it, password hidden', async () => {
    const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    const port = probe.port
    probe.stop(true)
    const result = await runCli(command(), [...QUIET, '--port', '0', '--redis', `redis://:hunter2@127.0.0.1:${port}`, '--redis-timeout', '500ms'])
    expect(result.code).toBe(5)
    const line = expectOneLine(result)
    expect(line).toContain(`redis://:***@127.0.0.1:${port}`)
    expect(line).toContain('--redis-start degraded')
    expect(line).not.toContain('hunter2')
  })

  test('a second herald on a store file another herald holds exits 4 with one line', async () => {
    const path = join(scratch, 'held.db')
    const first = await startCli(command(), ['--store', `sqlite:${path}`])
    try {
      const result = await runCli(command(), [...QUIET, '--port', '0', '--store', `sqlite:${path}`])
      expect(result.code).toBe(4)
      const line = expectOneLine(result)
      expect(line).toContain(path)
      expect(line).toContain('another')
      expect(line).toContain('--store')
      expect((await fetch(`${first.base}/healthz`)).status).toBe(200)
    } finally {
      first.child.kill('SIGKILL')
    }
  }, 30_000)
}

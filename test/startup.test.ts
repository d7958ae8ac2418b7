/**
 * Start-up failures of `bun src/main.ts`, run from an empty directory as a user would (the same
 * checks run on the compiled binary in test/binary.test.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../src/config'
import { HubError } from '../src/hub/errors'
import { buildFailure, EXIT_CODES, exitCodesHelp, listenFailure, optionFailure, unexpectedFailure } from '../src/startup'
import { startCli, startupFailureTests } from './cli'

let emptyDir: string
beforeAll(() => {
  emptyDir = mkdtempSync(join(tmpdir(), 'herald-source-'))
})
afterAll(() => rmSync(emptyDir, { recursive: true, force: true }))

describe('bun src/main.ts', () => {
  startupFailureTests(() => ({ argv: [process.execPath, join(import.meta.dir, '..', 'src', 'main.ts')], cwd: emptyDir }))
})

describe('the start line states how clients are authenticated', () => {
  const main = () => ({ argv: [process.execPath, join(import.meta.dir, '..', 'src', 'main.ts')], cwd: emptyDir })

  test('no key: only loopback may publish, and how to configure a key', async () => {
    const running = await startCli(main())
    try {
      const line = JSON.parse(running.logs.find((l) => l.includes('herald started')) as string) as { auth: string; demoTokens?: string }
      expect(line.auth).toContain('only this machine (loopback) may publish')
      expect(line.auth).toContain('--jwt-secret')
      expect(running.logs.some((l) => l.includes('DEV MODE'))).toBe(false)
      // The chat's demo tokens are on without a key, and the start line says so.
      expect(line.demoTokens).toContain('POST /chat/token')
      expect(running.logs.join('\n')).not.toMatch(/secret.*[A-Za-z0-9_-]{43}/)
    } finally {
      running.child.kill()
      await running.child.exited
    }
  })

  test('a key without --demo-tokens: no demo tokens, and the chat\'s token endpoint says how to turn them on', async () => {
    const running = await startCli(main(), ['--jwt-secret', 'startup-test-secret-0123456789abcdefgh'])
    try {
      const line = JSON.parse(running.logs.find((l) => l.includes('herald started')) as string) as { auth: string; demoTokens?: string }
      expect(line.auth).toContain('tokens:')
      expect(line.demoTokens).toBeUndefined()
      const refused = await fetch(`${running.base}/chat/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"ada","key":"aaaaaaaaaaaaaaaaaaaa"}' })
      expect(refused.status).toBe(404)
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('--demo-tokens')
    } finally {
      running.child.kill()
      await running.child.exited
    }
  })

  test('--dev: a warning before the start line, and the start line says it too', async () => {
    const running = await startCli(main(), ['--dev'])
    try {
      const start = running.logs.findIndex((l) => l.includes('herald started'))
      const warning = JSON.parse(running.logs[start - 1] as string) as { level: string; msg: string }
      expect(warning).toMatchObject({ level: 'warn', msg: expect.stringContaining('DEV MODE') })
      const line = JSON.parse(running.logs[start] as string) as { auth: string; dev: boolean }
      expect(line.auth).toContain('DEV MODE')
      expect(line.dev).toBe(true)
      // Open: a publish from anywhere is accepted (here, loopback; test/edges/no-key.test.ts covers other addresses).
      expect((await fetch(`${running.base}/topics/a`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })).status).toBe(200)
    } finally {
      running.child.kill()
      await running.child.exited
    }
  })
})

describe('start-up failure messages', () => {
  const target = { host: '::1', port: 8080 }

  test('a listen error names the address (IPv6 in brackets) and the flag that fixes it', () => {
    const busy = Object.assign(new Error('Failed to start server. Is port 8080 in use?'), { code: 'EADDRINUSE' })
    expect(listenFailure(busy, target)).toEqual({ exitCode: 3, message: 'cannot listen on [::1]:8080: the port is already in use (another Herald, or another program); stop it or choose another port with --port' })
    const denied = Object.assign(new Error('EACCES: permission denied, listen'), { code: 'EACCES' })
    expect(listenFailure(denied, target)).toMatchObject({ exitCode: 3, message: expect.stringContaining('permission denied; choose a port above 1023 with --port') })
  })

  test('a store error is exit 4 with a hint per cause; any other error while building is exit 1', () => {
    expect(buildFailure(new HubError('store_unavailable', 'cannot open the event store "x.db": database is locked'))).toMatchObject({ exitCode: 4, message: expect.stringContaining('another Herald') })
    expect(buildFailure(new HubError('invalid_topic', 'nope'))).toMatchObject({ exitCode: 1 })
    expect(buildFailure(new TypeError('x is not a function'))).toEqual({ exitCode: 1, message: 'could not start: TypeError: x is not a function (this looks like a bug in Herald; please report it)' })
  })

  test('every message is one line, whatever the underlying error put in its text', () => {
    const multiline = Object.assign(new Error('first\n  at somewhere (x.ts:1:2)\r\nthird'), { code: 'EWHATEVER' })
    for (const failure of [listenFailure(multiline, target), buildFailure(multiline), unexpectedFailure('a\nb'), optionFailure(new ConfigError('bad\nvalue'))]) {
      expect(failure.message).not.toMatch(/[\r\n]/)
    }
  })

  test('the exit codes are distinct and --help lists each', () => {
    const codes = Object.values(EXIT_CODES)
    expect(new Set(codes).size).toBe(codes.length)
    for (const code of codes) expect(exitCodesHelp()).toMatch(new RegExp(`^  ${code}  \\S`, 'm'))
  })

  test('the README lists every exit code', async () => {
    const readme = await Bun.file(join(import.meta.dir, '..', 'README.md')).text()
    for (const code of Object.values(EXIT_CODES)) expect(readme).toMatch(new RegExp(`^\\| ${code} \\| \\S`, 'm'))
  })
})

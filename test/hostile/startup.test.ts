/**
 * Generated command lines that cannot start a server: bad flags and values (flag or env var), ports
 * already taken (by a server that shares ports or one that does not), addresses not on this
 * machine, and store paths that cannot be opened. Each must end `bun src/main.ts` with exactly one
 * line on stderr (no stack, no source) and the exit code of its family, never a running server.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OPTIONS } from '../../src/config'
import { EXIT_CODES } from '../../src/startup'
import { runCli } from '../cli'
import { CONTROL_CHARACTERS, Rng, SAFE, SEED } from './prng'

const MAIN = join(import.meta.dir, '..', '..', 'src', 'main.ts')
const CASES = 30

interface Case {
  why: string
  args: string[]
  env?: Record<string, string>
  exitCode: number
}

/** Options whose parser refuses some text (host and feed-db take any non-empty text). */
const NUMERIC = OPTIONS.filter((option) => typeof option.default === 'number')
const BAD_NUMBERS = ['-1', '1.5', '1e3', '0x10', 'abc', ' ', '１', '9'.repeat(30), '1 2', '+5', 'NaN', 'Infinity', '10parsecs']

let scratch: string
let busyPorts: { port: number; host: string }[] = []
const holders: ReturnType<typeof Bun.serve>[] = []

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'herald-hostile-startup-'))
  mkdirSync(join(scratch, 'a-directory'))
  // Ports held by other servers: one that shares ports (as Elysia's adapter does by default), one that does not.
  for (const reusePort of [true, false]) {
    const holder = Bun.serve({ port: 0, hostname: '127.0.0.1', reusePort, fetch: () => new Response('someone else') })
    holders.push(holder)
  }
  busyPorts = holders.map((holder) => ({ port: holder.port as number, host: '127.0.0.1' }))
})

afterAll(() => {
  for (const holder of holders) holder.stop(true)
  rmSync(scratch, { recursive: true, force: true })
})

function garbageFile(rng: Rng): string {
  const path = join(scratch, `garbage-${rng.string(8, SAFE)}.db`)
  // Non-empty: an empty file is a valid new SQLite database.
  writeFileSync(path, rng.bytes(rng.int(512, 8192)))
  return path
}

/** Draws one start-up that must fail. */
function badStart(rng: Rng): Case {
  const quiet = ['--host', '127.0.0.1', '--port', '0', '--feed-db', ':memory:']
  switch (rng.int(0, 6)) {
    case 0: {
      const flag = rng.pick([`--${rng.string(rng.int(1, 12), SAFE)}x`, `-${rng.string(1, 'abcdefgijklmnopqrstuwxyz')}`, rng.string(rng.int(1, 8), SAFE), '--', '-', '--PORT', '--port-', '---port'])
      return { why: `unknown option ${JSON.stringify(flag)}`, args: [...quiet, flag, '1'], exitCode: EXIT_CODES.badOption }
    }
    case 1: {
      const option = rng.pick(NUMERIC)
      const value = rng.chance(0.3) ? `${rng.int(1, 9)}${rng.pick(CONTROL_CHARACTERS)}` : rng.pick(BAD_NUMBERS)
      return { why: `${option.flag} ${JSON.stringify(value)}`, args: [...quiet, option.flag, value], exitCode: EXIT_CODES.badOption }
    }
    case 2: {
      const option = rng.pick(NUMERIC)
      const name = rng.pick(option.env)
      const value = rng.pick(BAD_NUMBERS.filter((v) => v.trim() !== ''))
      return { why: `${name}=${JSON.stringify(value)}`, args: quiet, env: { [name]: value }, exitCode: EXIT_CODES.badOption }
    }
    case 3: {
      const busy = rng.pick(busyPorts)
      const host = rng.pick(['127.0.0.1', '0.0.0.0', 'localhost'])
      return { why: `port ${busy.port} already taken, listening on ${host}`, args: ['--host', host, '--port', String(busy.port), '--feed-db', ':memory:'], exitCode: EXIT_CODES.cannotListen }
    }
    case 4: {
      const host = rng.pick([`192.0.2.${rng.int(1, 254)}`, `198.51.100.${rng.int(1, 254)}`, `203.0.113.${rng.int(1, 254)}`, `2001:db8::${rng.int(1, 0xffff).toString(16)}`])
      return { why: `--host ${host} (not on this machine)`, args: ['--host', host, '--port', '0', '--feed-db', ':memory:'], exitCode: EXIT_CODES.cannotListen }
    }
    case 5: {
      const name = rng.string(rng.int(1, 10), SAFE) + (rng.chance(0.3) ? rng.pick(['\n', '\r\n', ' at x.ts:1:1', '"', '\t']) : '')
      const path = rng.pick([join(scratch, `missing-${rng.string(6, SAFE)}`, `${name}.db`), join(scratch, 'a-directory'), `/nonexistent/${name}/x.db`])
      return { why: `--store sqlite:${JSON.stringify(path)}`, args: [...quiet, '--store', `sqlite:${path}`], exitCode: EXIT_CODES.storeUnavailable }
    }
    default: {
      const path = garbageFile(rng)
      return { why: `--store on a file of random bytes`, args: [...quiet, '--store', `sqlite:${path}`], exitCode: EXIT_CODES.storeUnavailable }
    }
  }
}

test(`${CASES} generated start-ups that cannot work each exit with their code and one line (seed ${SEED})`, async () => {
  const rng = new Rng(SEED ^ 0x57a27)
  const failures: string[] = []
  const families = new Set<number>()
  for (let i = 0; i < CASES; i++) {
    const bad = badStart(rng)
    families.add(bad.exitCode)
    const result = await runCli({ argv: [process.execPath, MAIN], cwd: scratch }, bad.args, { env: bad.env })
    const oneLine = /^herald: [^\n]+\n$/.test(result.stderr) && !/\bat .*:\d+:\d+\)|Bun v\d/.test(result.stderr)
    if (result.code !== bad.exitCode || !oneLine || result.stdout !== '') failures.push(`${bad.why}: exit ${result.code}, stderr ${JSON.stringify(result.stderr.slice(0, 300))}`)
  }
  expect(families.size).toBe(3)
  expect(failures).toEqual([])
}, 180_000)


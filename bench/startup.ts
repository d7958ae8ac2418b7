/**
 * `bun run bench:startup`: time from exec to the first successful GET /healthz, for the compiled
 * binary with and without bytecode and for `bun src/main.ts` (what `bun run start` runs). Builds
 * the binaries into a temp dir first. Prints the median and min of RUNS starts each.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { $ } from 'bun'

const RUNS = Number(process.env.BENCH_RUNS ?? 15)
const dir = mkdtempSync(join(tmpdir(), 'herald-startup-'))

async function freePort(): Promise<number> {
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = server.port as number
  await server.stop(true)
  return port
}

async function timeStart(command: string[]): Promise<number> {
  const port = await freePort()
  const started = performance.now()
  const child = Bun.spawn([...command, '--port', String(port), '--host', '127.0.0.1', '--log-level', 'warn'], { stdout: 'ignore', stderr: 'ignore', cwd: dir })
  try {
    for (;;) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`)
        if (response.status === 200) return performance.now() - started
      } catch {
        // not listening yet
      }
      if (performance.now() - started > 10_000) throw new Error(`${command.join(' ')} did not answer within 10 s`)
      await Bun.sleep(1)
    }
  } finally {
    child.kill('SIGKILL')
    await child.exited
  }
}

function summary(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b)
  return `median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms, min ${sorted[0]?.toFixed(1)} ms (${times.length} runs)`
}

try {
  const withBytecode = join(dir, 'herald-bytecode')
  const without = join(dir, 'herald-plain')
  await $`bun build src/main.ts --compile --minify --bytecode --outfile ${withBytecode}`.quiet()
  await $`bun build src/main.ts --compile --minify --outfile ${without}`.quiet()
  const variants: [string, string[]][] = [
    ['binary, minify + bytecode', [withBytecode]],
    ['binary, minify, no bytecode', [without]],
    ['bun src/main.ts (bun run start)', ['bun', join(process.cwd(), 'src/main.ts')]],
  ]
  for (const [name, command] of variants) {
    const times: number[] = []
    await timeStart(command) // warm the page cache
    for (let i = 0; i < RUNS; i++) times.push(await timeStart(command))
    console.log(`${name.padEnd(34)} exec → first 200 on /healthz: ${summary(times)}`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}

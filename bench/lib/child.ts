/**
 * The parent side of the server protocol (see servers/control.ts): spawn a bench server in its own
 * process, so it has a core and a heap of its own and its RSS and CPU time can be read alone from
 * /proc. Every child is tracked and killed on exit, error or Ctrl-C.
 */
import type { Subprocess } from 'bun'

type Child = Subprocess<'pipe', 'pipe', 'inherit'>

const live = new Set<Child>()

/** Last resort: SIGKILL whatever is still running (synchronous, so it works in an 'exit' handler). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL')
  live.clear()
}

process.on('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll()
    process.exit(130)
  })
}

/** Reads a child's stdout line by line; `next` waits for the next protocol line (or fails after a deadline). */
class LineReader {
  private lines: string[] = []
  private waiter: (() => void) | undefined
  private ended = false

  constructor(stream: ReadableStream<Uint8Array>) {
    void this.pump(stream)
  }

  /** The next line starting with `prefix`, minus the prefix; other lines (server output) are skipped. */
  async next(prefix: string, timeoutMs: number, what: string): Promise<string> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const line = this.lines.shift()
      if (line !== undefined) {
        if (line.startsWith(prefix)) return line.slice(prefix.length)
        continue
      }
      if (this.ended) throw new Error(`server exited while waiting for ${what}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${what}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiter = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }

  private async pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    let pending = ''
    const reader = stream.getReader()
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      pending += decoder.decode(read.value, { stream: true })
      const parts = pending.split('\n')
      pending = parts.pop() ?? ''
      this.lines.push(...parts.filter((line) => line.trim() !== ''))
      this.waiter?.()
    }
    this.ended = true
    this.waiter?.()
  }
}

export class ServerProcess {
  private constructor(
    readonly name: string,
    private readonly child: Child,
    private readonly stdout: LineReader,
    readonly port: number,
  ) {}

  /**
   * Starts `bun <script>` and waits until it listens. `bunFlags` go before the script (e.g.
   * --cpu-prof-md); `env` is added to this process's environment.
   */
  static async start(name: string, script: string, bunFlags: string[] = [], env: Record<string, string> = {}): Promise<ServerProcess> {
    const child = Bun.spawn([process.execPath, ...bunFlags, script], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit', env: { ...process.env, ...env } })
    live.add(child)
    const stdout = new LineReader(child.stdout)
    try {
      const port = Number(await stdout.next('bench:port ', 15_000, `${name} to listen`))
      return new ServerProcess(name, child, stdout, port)
    } catch (error) {
      child.kill('SIGKILL')
      live.delete(child)
      throw error
    }
  }

  get pid(): number {
    return this.child.pid
  }

  /** Full GC in the server, then its resident set size in bytes (VmRSS from /proc). */
  async rssAfterGc(): Promise<number> {
    this.child.stdin.write('gc\n')
    this.child.stdin.flush()
    await this.stdout.next('bench:gc-ok', 10_000, `${this.name} gc`)
    const status = await Bun.file(`/proc/${this.pid}/status`).text()
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
    if (!kb) throw new Error(`no VmRSS in /proc/${this.pid}/status`)
    return Number(kb[1]) * 1024
  }

  /** Sends one of the server's own commands (see servers/control.ts) and returns its answer. */
  async command(name: string, timeoutMs = 10_000): Promise<string> {
    this.child.stdin.write(`${name}\n`)
    this.child.stdin.flush()
    return this.stdout.next(`bench:${name} `, timeoutMs, `${this.name} ${name}`)
  }

  /** Waits for a line `bench:<name> <text>` the server writes by itself (e.g. when set up); returns the text. */
  announcement(name: string, timeoutMs: number): Promise<string> {
    return this.stdout.next(`bench:${name} `, timeoutMs, `${this.name} ${name}`)
  }

  /** CPU time (user + system) the server has used so far, in milliseconds. */
  async cpuMs(): Promise<number> {
    const stat = await Bun.file(`/proc/${this.pid}/stat`).text()
    // Fields after the command name (which may hold spaces, hence the last ')'): utime is 14th, stime 15th overall.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return (ticks * 1000) / CLOCK_TICKS
  }

  /** Closes stdin (the child stops and exits by itself, writing any profile), SIGKILL if it lingers. */
  async stop(): Promise<void> {
    try {
      this.child.stdin.end()
    } catch {
      // already closed
    }
    const exited = await Promise.race([this.child.exited.then(() => true), Bun.sleep(5_000).then(() => false)])
    if (!exited) this.child.kill('SIGKILL')
    live.delete(this.child)
  }
}

/** USER_HZ: 100 on every Linux build that matters; `getconf` confirms it when available. */
const CLOCK_TICKS = (() => {
  try {
    const result = Bun.spawnSync(['getconf', 'CLK_TCK'])
    const value = Number(result.stdout.toString().trim())
    return value > 0 ? value : 100
  } catch {
    return 100
  }
})()

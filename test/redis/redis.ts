/**
 * Redis for tests: the server at HERALD_TEST_REDIS (default redis://127.0.0.1:6379), a unique key
 * prefix per test (several clusters share one Redis, as in production), cleanup of every key a
 * prefix holds, and a private redis-server on a free port that a test may stop and restart.
 */
import type { Subprocess } from 'bun'
import { RedisClient } from 'bun'
import { RedisLink } from '../../src/redis/link'
import { waitFor } from '../helpers'

/** The Redis shared by the tests. */
export const REDIS_URL = process.env.HERALD_TEST_REDIS ?? 'redis://127.0.0.1:6379'

let counter = 0

/** A key prefix no other test (or test run) uses. */
export function uniquePrefix(name = 'test'): string {
  return `herald-test-${name}-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`
}

/** Deletes every key under `prefix` (SCAN + UNLINK). */
export async function deleteKeys(prefix: string, url = REDIS_URL): Promise<void> {
  const client = new RedisClient(url)
  try {
    let cursor = '0'
    do {
      const [next, keys] = (await client.send('SCAN', [cursor, 'MATCH', `${prefix}:*`, 'COUNT', '1000'])) as [string, string[]]
      cursor = next
      if (keys.length > 0) await client.send('UNLINK', keys)
    } while (cursor !== '0')
  } finally {
    client.close()
  }
}

/** A connected link to `url` (commands time out after `timeoutMs`). */
export async function connectedLink(url = REDIS_URL, timeoutMs = 2000): Promise<RedisLink> {
  const link = new RedisLink(url, { timeoutMs })
  await link.connect()
  return link
}

/** A port nothing listens on now. */
export function freePort(): number {
  const server = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = server.port
  server.stop(true)
  return port
}

/** A redis-server of the test's own, without persistence, that can be stopped and started again (empty). */
export class PrivateRedis {
  private child: Subprocess | undefined
  readonly port = freePort()
  readonly url = `redis://127.0.0.1:${this.port}`

  /** `args` are added to redis-server's (e.g. `--dir`, to keep a snapshot across restarts). */
  constructor(private readonly args: string[] = []) {}

  /** Starts it (again) and waits until it answers PING. */
  async start(): Promise<void> {
    this.child = Bun.spawn(['redis-server', '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.args], { stdout: 'ignore', stderr: 'ignore' })
    await waitFor(async () => {
      const client = new RedisClient(this.url, { autoReconnect: false, connectionTimeout: 200 })
      try {
        await client.connect()
        return (await client.send('PING', [])) === 'PONG'
      } catch {
        return false
      } finally {
        client.close()
      }
    }, `redis-server on port ${this.port}`)
  }

  /** Sends one command (e.g. SAVE) on a fresh connection. */
  async command(args: string[]): Promise<unknown> {
    const client = new RedisClient(this.url, { autoReconnect: false })
    try {
      await client.connect()
      return await client.send(args[0] as string, args.slice(1))
    } finally {
      client.close()
    }
  }

  /** Kills it (SIGKILL: everything it held is lost) and waits for it to be gone. */
  async kill(): Promise<void> {
    const child = this.child
    this.child = undefined
    if (!child) return
    child.kill('SIGKILL')
    await child.exited
  }

  /** Pauses it (SIGSTOP): connections stay open and nothing answers; `resume` continues it. */
  pause(): void {
    this.child?.kill('SIGSTOP')
  }

  resume(): void {
    this.child?.kill('SIGCONT')
  }
}

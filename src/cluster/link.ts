import { RedisClient } from 'bun'
import { HubError } from '../hub/errors'

export interface ClusterLinkOptions {
  /** Longest a connection attempt may take, in milliseconds (default 2000). */
  connectTimeoutMs?: number
  /** Longest a command may wait for its answer, in milliseconds (default 2000); past it the connection is dropped as untrustworthy. */
  commandTimeoutMs?: number
  /** Wait after a failed attempt before the next one, doubling up to `maxBackoffMs` (defaults 100 and 5000 ms). */
  minBackoffMs?: number
  maxBackoffMs?: number
  /** Told when the link goes down (with why) and when it comes back: for the log. */
  onChange?: (up: boolean, error?: unknown) => void
}

/** A connection failure as a caller sees it: `store_unavailable` (503), saying Redis is unreachable. */
function unreachable(error?: unknown): HubError {
  const reason = error instanceof Error ? ` (${error.message})` : ''
  return new HubError('store_unavailable', `Redis is unreachable${reason}; try again shortly`)
}

/** True for Bun's errors about the connection itself (not a command Redis refused). */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' && code.startsWith('ERR_REDIS_CONNECTION')
}

/**
 * One connection to Redis (Bun's built-in RedisClient) that never makes a caller wait for Redis to
 * come back: while it is down every command rejects at once with `store_unavailable`, and the next
 * command after a backoff (100 ms doubling to 5 s) tries a fresh connection. Bun's own offline
 * queue is off, because it would hold requests (and their memory) for as long as Redis is away.
 * The first command waits for the first connection attempt (at most `connectTimeoutMs`). A command
 * unanswered after `commandTimeoutMs` rejects the same way and drops the connection.
 *
 * Its own connection, for the cluster's membership and the demos' shared state; the broker and
 * history have theirs (a slow scan here never delays a publish there).
 */
export class ClusterLink {
  private client: RedisClient | undefined
  private connecting: Promise<RedisClient> | undefined
  private nextAttemptAt = 0
  private backoffMs: number
  private closed = false
  /** What onChange was last told (undefined: nothing yet). */
  private reported: boolean | undefined

  constructor(
    /** `redis://` or `rediss://`, with the password in it if there is one. */
    readonly url: string,
    private readonly options: ClusterLinkOptions = {},
  ) {
    this.backoffMs = options.minBackoffMs ?? 100
  }

  /** True while connected. */
  get up(): boolean {
    return this.client?.connected === true
  }

  /** Sends one command. Rejects with `store_unavailable` while Redis is unreachable, `shutting_down` once closed, or Redis's own error. */
  async send(command: string, args: readonly (string | number)[] = []): Promise<unknown> {
    const client = await this.ready()
    let timer: ReturnType<typeof setTimeout> | undefined
    const ms = this.options.commandTimeoutMs ?? 2000
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`Redis did not answer ${command} within ${ms} ms`), { code: 'ERR_REDIS_CONNECTION_TIMEOUT' })), ms)
    })
    try {
      return await Promise.race([client.send(command, args.map(String)), timeout])
    } catch (error) {
      if (!isConnectionError(error) && client.connected) throw error
      this.lost(client, error)
      throw unreachable(error)
    } finally {
      clearTimeout(timer)
    }
  }

  /** EVAL of a Lua script with its keys and arguments (Redis caches the compiled script by its text's digest). */
  eval(script: string, keys: readonly string[], args: readonly (string | number)[] = []): Promise<unknown> {
    return this.send('EVAL', [script, keys.length, ...keys, ...args])
  }

  /** Closes the connection; every later command rejects with `shutting_down`. Idempotent. */
  close(): void {
    this.closed = true
    this.client?.close()
    this.client = undefined
  }

  private ready(): Promise<RedisClient> {
    if (this.closed) return Promise.reject(new HubError('shutting_down', 'Herald is shutting down'))
    const client = this.client
    if (client?.connected) return Promise.resolve(client)
    if (this.connecting) return this.connecting
    if (Date.now() < this.nextAttemptAt) return Promise.reject(unreachable())
    this.connecting = this.connect().finally(() => {
      this.connecting = undefined
    })
    return this.connecting
  }

  private async connect(): Promise<RedisClient> {
    this.client?.close()
    // Bun's reconnect loop would hold connect() for its whole retry schedule; this class retries itself.
    const client = new RedisClient(this.url, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: this.options.connectTimeoutMs ?? 2000 })
    this.client = client
    try {
      await client.connect()
    } catch (error) {
      this.lost(client, error)
      throw unreachable(error)
    }
    if (this.closed) {
      client.close()
      throw new HubError('shutting_down', 'Herald is shutting down')
    }
    this.backoffMs = this.options.minBackoffMs ?? 100
    this.nextAttemptAt = 0
    this.report(true)
    return client
  }

  private lost(client: RedisClient, error: unknown): void {
    if (client !== this.client) return
    client.close()
    this.client = undefined
    this.nextAttemptAt = Date.now() + this.backoffMs
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 5000)
    this.report(false, error)
  }

  private report(up: boolean, error?: unknown): void {
    if (this.reported === up) return
    this.reported = up
    this.options.onChange?.(up, error)
  }
}

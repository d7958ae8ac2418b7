import { RedisClient } from 'bun'
import type { LuaScript } from './scripts'

/**
 * What Herald's Redis store and broker need of a connection: commands and scripts that answer
 * within a time limit. Tests wrap a RedisLink in one of these to inject faults.
 */
export interface RedisCommands {
  /**
   * Sends one command. Rejects with a RedisFailure when the link is down (at once: commands are
   * never queued for later), on an error reply, or when no answer came within `timeoutMs` (the
   * command may then still run: the caller cannot know whether it did).
   */
  send(command: string, args: string[], timeoutMs?: number): Promise<unknown>
  /** Runs a script (EVALSHA; EVAL once Redis says it does not know it), as `send`. */
  run(script: LuaScript, args: string[], timeoutMs?: number): Promise<unknown>
}

/**
 * Why a command failed. `sent` is false only when it certainly never reached Redis (the link was
 * down): a publish can then say "nothing was published"; otherwise "it may have been kept".
 */
export class RedisFailure extends Error {
  constructor(
    message: string,
    readonly sent: boolean,
    readonly timedOut = false,
  ) {
    super(message)
    this.name = 'RedisFailure'
  }
}

export interface RedisLinkOptions {
  /** How long a command (and a connection attempt) may take, in milliseconds. */
  timeoutMs: number
}

/** The message of whatever a Redis call threw. */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * One connection to Redis with Bun's built-in client, managed by its owner: `connect` makes one
 * attempt (a fresh client each time), and once open, any loss (Redis gone, a command timing out)
 * closes it and calls `onDown` once; reconnecting is the owner's decision (see RedisBroker's
 * backoff). No offline queue: while down, commands fail at once rather than piling up.
 */
export class RedisLink implements RedisCommands {
  private client: RedisClient | undefined
  private closed = false
  /** Called once each time an open connection is lost (closed by Redis or the network, or a command timed out). */
  onDown: ((error: Error) => void) | undefined

  constructor(
    private readonly url: string,
    private readonly options: RedisLinkOptions,
  ) {}

  /** True while a connection is open. */
  get up(): boolean {
    return this.client?.connected === true
  }

  /** One connection attempt, bounded by the timeout; rejects with a RedisFailure. */
  async connect(): Promise<void> {
    if (this.closed) throw new RedisFailure('the Redis link is closed', false)
    this.drop()
    const client = new RedisClient(this.url, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: this.options.timeoutMs, enableAutoPipelining: true })
    this.client = client
    client.onclose = (error) => {
      if (this.client !== client) return
      this.client = undefined
      this.onDown?.(error ?? new Error('connection closed'))
    }
    try {
      await withTimeout(client.connect(), this.options.timeoutMs, 'connecting')
      // Bun reports a refused password as a closed connection: a first command tells them apart.
      await withTimeout(client.send('PING', []), this.options.timeoutMs, 'PING')
    } catch (error) {
      if (this.client === client) this.client = undefined
      client.onclose = null
      client.close()
      throw new RedisFailure(`could not connect (${reasonOf(error)})`, false)
    }
  }

  send(command: string, args: string[], timeoutMs = this.options.timeoutMs): Promise<unknown> {
    const client = this.client
    if (!client?.connected) return Promise.reject(new RedisFailure('not connected to Redis', false))
    let reply: Promise<unknown>
    try {
      reply = client.send(command, args)
    } catch (error) {
      return Promise.reject(new RedisFailure(reasonOf(error), false))
    }
    return withTimeout(reply, timeoutMs, command).catch((error: unknown) => {
      if (error instanceof RedisFailure && error.timedOut) this.lose(client, error)
      throw error instanceof RedisFailure ? error : new RedisFailure(reasonOf(error), true)
    })
  }

  async run(script: LuaScript, args: string[], timeoutMs = this.options.timeoutMs): Promise<unknown> {
    try {
      return await this.send('EVALSHA', [script.sha, '0', ...args], timeoutMs)
    } catch (error) {
      // NOSCRIPT: this Redis does not know the script yet (new, restarted or flushed); nothing ran.
      if (!(error instanceof RedisFailure) || !error.message.startsWith('NOSCRIPT')) throw error
      return await this.send('EVAL', [script.source, '0', ...args], timeoutMs)
    }
  }

  /** Closes the current connection (commands in flight fail) without calling onDown; `connect` may open a new one. */
  disconnect(): void {
    this.drop()
  }

  /** Closes the connection for good; later commands fail. Does not call onDown. */
  close(): void {
    this.closed = true
    this.drop()
  }

  /** Closes the current connection without calling onDown (a reconnect, or the end). */
  private drop(): void {
    const client = this.client
    this.client = undefined
    if (!client) return
    client.onclose = null
    client.close()
  }

  /** A command timed out: the connection is not to be trusted; close it and report it down. */
  private lose(client: RedisClient, error: Error): void {
    if (this.client !== client) return
    this.drop()
    this.onDown?.(error)
  }
}

/** `promise`, or a RedisFailure (timedOut, sent) once `ms` passed without an answer. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisFailure(`Redis did not answer ${what} within ${ms} ms`, true, true)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The oldest Redis Herald's scripts run on: exclusive XRANGE starts and XTRIM MINID came in 6.2. */
export const MIN_REDIS_VERSION = [6, 2] as const

/**
 * Undefined when the `INFO server` text names a Redis (or Valkey, which reports its Redis
 * compatibility version) of at least MIN_REDIS_VERSION, or names none; else why it cannot serve.
 */
export function versionProblem(info: string): string | undefined {
  const match = /^redis_version:(\d+)\.(\d+)/m.exec(info)
  if (!match) return undefined
  const [major, minor] = [Number(match[1]), Number(match[2])]
  if (major > MIN_REDIS_VERSION[0] || (major === MIN_REDIS_VERSION[0] && minor >= MIN_REDIS_VERSION[1])) return undefined
  return `Redis ${major}.${minor} is too old: Herald needs ${MIN_REDIS_VERSION.join('.')} or newer (or Valkey)`
}

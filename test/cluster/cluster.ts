/**
 * Herald clusters for tests: `herald` processes (`bun src/main.ts`) on port 0 sharing one Redis
 * under a unique prefix, and clients that behave like real ones: SSE and WebSocket subscribers
 * that reconnect (to whichever node is given) and resume from the last id they received.
 */
import { join } from 'node:path'
import { type CliCommand, type RunningCli, startCli } from '../cli'
import { SseClient, type SseEvent, WsClient, type WsMessage } from '../helpers'
import { deleteKeys, REDIS_URL, uniquePrefix } from '../redis/redis'

/** Herald from source, as the cluster tests run it. */
export const HERALD: CliCommand = { argv: ['bun', 'src/main.ts'], cwd: join(import.meta.dir, '..', '..') }

/** A secret for tokens (--jwt-secret). */
export const SECRET = 'cluster-test-secret-cluster-test-secret-0123456789'

/** Several nodes of one cluster. `stop` kills them and deletes the cluster's keys. */
export class Cluster {
  readonly nodes: RunningCli[] = []

  constructor(
    readonly args: string[] = [],
    readonly redis = REDIS_URL,
    readonly prefix = uniquePrefix('cluster'),
  ) {}

  /** Starts `count` nodes (one after the other, so each start line is read in turn). */
  static async start(count: number, args: string[] = [], redis = REDIS_URL): Promise<Cluster> {
    const cluster = new Cluster(args, redis)
    for (let i = 0; i < count; i++) await cluster.add()
    return cluster
  }

  /** Starts one more node (with `extra` flags besides the cluster's). */
  async add(extra: string[] = []): Promise<RunningCli> {
    const node = await startCli(HERALD, ['--redis', this.redis, '--redis-prefix', this.prefix, '--redis-timeout', '500ms', ...this.args, ...extra])
    this.nodes.push(node)
    return node
  }

  /** kill -9. */
  async kill(node: RunningCli): Promise<void> {
    node.child.kill('SIGKILL')
    await node.child.exited
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) node.child.kill('SIGKILL')
    await Promise.all(this.nodes.map((node) => node.child.exited))
    await deleteKeys(this.prefix, this.redis)
  }
}

/** POSTs one event; returns the status and the JSON body. */
export async function post(base: string, topic: string, body: Record<string, unknown>, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}/topics/${topic}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/** One event as a subscriber saw it. */
export interface Seen {
  id: string
  topic?: string
  data: string
}

/**
 * An EventSource-like SSE subscriber: it follows the stream, and when the stream ends (or the
 * node dies) reconnects to `base()` with `Last-Event-ID`, as a browser does.
 */
export class ResumingSse {
  readonly received: Seen[] = []
  readonly resets: string[] = []
  readonly endings: string[] = []
  lastId: string | undefined
  connections = 0
  private stopped = false
  private readonly done: Promise<void>

  constructor(
    private readonly base: () => string,
    private readonly query: string,
    private readonly headers: Record<string, string> = {},
    lastId?: string,
  ) {
    this.lastId = lastId
    this.done = this.run()
  }

  /** True once the current stream is open (it has sent its first block). */
  get live(): boolean {
    return this.openNow
  }

  private openNow = false

  private async run(): Promise<void> {
    while (!this.stopped) {
      let client: SseClient
      try {
        client = await SseClient.open(`${this.base()}/events?${this.query}`, { ...this.headers, ...(this.lastId && { 'last-event-id': this.lastId }) })
      } catch {
        await Bun.sleep(50)
        continue
      }
      if (client.status !== 200) {
        await Bun.sleep(50)
        continue
      }
      this.connections++
      let seen = 0
      while (!this.stopped) {
        for (; seen < client.events.length; seen++) {
          this.openNow = true
          this.handle(client.events[seen] as SseEvent)
        }
        if (client.ended) break
        await Bun.sleep(5)
      }
      this.openNow = false
      client.close()
    }
  }

  private handle(event: SseEvent): void {
    if (event.id !== undefined) this.lastId = event.id
    if (event.event === 'message' && event.id !== undefined && (event.retry === undefined || event.data !== '')) this.received.push({ id: event.id, data: event.data })
    else if (event.event === 'reset') this.resets.push(event.id ?? '')
    else if (event.event !== 'message') this.endings.push(event.event)
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.done
  }
}

/** A WebSocket subscriber that reconnects to `base()` (ws://…) and resubscribes with its last id when its socket closes. */
export class ResumingWs {
  readonly received: Seen[] = []
  readonly resets: string[] = []
  readonly closeCodes: number[] = []
  lastId: string | undefined
  connections = 0
  live = false
  private stopped = false
  private socket: WsClient | undefined
  private readonly done: Promise<void>

  constructor(
    private readonly base: () => string,
    private readonly topics: string[],
    private readonly token?: string,
    lastId?: string,
  ) {
    this.lastId = lastId
    this.done = this.run()
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let socket: WsClient
      try {
        socket = await WsClient.open(`${this.base()}/ws${this.token ? `?access_token=${this.token}` : ''}`)
      } catch {
        await Bun.sleep(50)
        continue
      }
      this.socket = socket
      this.connections++
      socket.send({ type: 'subscribe', topics: this.topics, ...(this.lastId && { lastEventId: this.lastId }) })
      let seen = 0
      while (!this.stopped) {
        for (; seen < socket.messages.length; seen++) this.handle(socket.messages[seen] as WsMessage)
        if (socket.closeCode !== undefined) break
        await Bun.sleep(5)
      }
      this.live = false
      if (socket.closeCode !== undefined) this.closeCodes.push(socket.closeCode)
      socket.close()
    }
  }

  private handle(message: WsMessage): void {
    if (message.type === 'subscribed') {
      this.live = true
      // Live from the head: the position to resume from if the socket closes before any event.
      if (this.lastId === undefined && typeof message.head === 'string') this.lastId = message.head
    }
    if (message.type === 'event') {
      this.lastId = message.id as string
      this.received.push({ id: message.id as string, topic: message.topic as string, data: typeof message.data === 'string' ? message.data : JSON.stringify(message.data) })
    }
    if (message.type === 'reset') {
      this.resets.push(String(message.lastEventId ?? message.head ?? ''))
      if (typeof message.head === 'string') this.lastId = message.head
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.socket?.close()
    await this.done
  }
}

/**
 * One logical soak subscriber: it connects, may stall (stop reading) or drop its connection, and
 * whenever a connection ends while it still wants events it reconnects with the last id it saw,
 * as a real client does. Its record is what ledger.ts checks.
 */
import { type ConnectionEvents, openSse, openWs, type SubscriberConnection } from './clients'
import type { SubscriberRecord } from './ledger'

export class SoakSubscriber {
  readonly record: SubscriberRecord
  /** Connections the server cut because this subscriber read too slowly. */
  cuts = 0
  reconnects = 0
  private connection: SubscriberConnection | undefined
  private leaving = false
  private paused: SubscriberConnection | undefined
  private wentLive = false

  constructor(
    name: string,
    readonly kind: 'sse' | 'ws',
    selectors: string[],
    private readonly host: string,
    private readonly port: number,
  ) {
    this.record = { name, selectors, received: [], resets: [], liveAt: Number.POSITIVE_INFINITY, leftAt: Number.POSITIVE_INFINITY, stalled: false }
  }

  get lastId(): string | undefined {
    return this.record.received.at(-1)?.id
  }

  get left(): boolean {
    return this.leaving
  }

  async start(): Promise<void> {
    // A reconnect timer may fire after leave().
    if (this.leaving) return
    const events: ConnectionEvents = {
      onLive: () => {
        if (this.wentLive) return
        this.wentLive = true
        this.record.liveAt = performance.now()
      },
      onEvent: (event) => this.record.received.push(event),
      onReset: () => this.record.resets.push(this.record.received.length),
      onEnd: (how) => {
        if (how === 'cut') this.cuts++
        if (this.leaving) return
        this.reconnects++
        setTimeout(() => void this.start(), 20 + Math.random() * 200)
      },
    }
    try {
      this.connection = this.kind === 'sse' ? await openSse(this.host, this.port, this.record.selectors, this.lastId, events) : openWs(this.host, this.port, this.record.selectors, this.lastId, events)
    } catch {
      if (!this.leaving) setTimeout(() => void this.start(), 200)
      return
    }
    if (this.leaving) this.connection.destroy()
  }

  /** Stops reading for `ms` (the server may cut it meanwhile; it then reconnects). */
  stall(ms: number): void {
    const connection = this.connection
    this.record.stalled = true
    this.paused = connection
    connection?.pause()
    setTimeout(() => this.wake(), ms)
  }

  /** Ends a stall now. */
  wake(): void {
    this.paused?.resume()
    this.paused = undefined
  }

  /** Drops the connection abruptly; it reconnects from its last id. */
  bounce(): void {
    this.connection?.destroy()
  }

  leave(): void {
    if (this.leaving) return
    this.leaving = true
    this.record.leftAt = performance.now()
    this.connection?.destroy()
  }
}

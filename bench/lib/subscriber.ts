/**
 * One subscriber = one raw TCP socket (Bun.connect) speaking HTTP/1.1 by hand: a JS object and a
 * few counters per connection instead of a fetch/WebSocket object, so one client thread can keep
 * up with a thousand of them. Subclasses send the request, judge the response head and count the
 * events in the body bytes.
 */
import type { Socket, SocketHandler } from 'bun'
import type { Tally } from './tally'

const HEAD_END = Buffer.from('\r\n\r\n')
const TIMESTAMP = Buffer.from('ts=')
const SEMICOLON = 0x3b

export abstract class Subscriber {
  protected socket: Socket<Subscriber> | undefined
  private head: Buffer | undefined
  private headDone = false
  private closing = false
  private complete = false
  events = 0

  constructor(
    protected readonly tally: Tally,
    /** Only sampled subscribers read timestamps, which keeps the client cheap. */
    protected readonly sampled: boolean,
    /** A token, sent as `Authorization: Bearer` with the request (the auth-on phases). */
    private readonly token?: string,
  ) {}

  /** The request's Authorization header line (with its CRLF), or nothing without a token. */
  protected authorization(): string {
    return this.token === undefined ? '' : `Authorization: Bearer ${this.token}\r\n`
  }

  /** The HTTP request, sent once the socket is connected. */
  abstract request(host: string): string
  /** The response head (status line and headers); false when the response is not the expected one. */
  protected abstract acceptHead(head: string): boolean
  /** Body bytes `buf[from..]` arrived at `now`. */
  protected abstract onBody(buf: Buffer, from: number, now: number): void

  async connect(port: number): Promise<void> {
    this.socket = await Bun.connect({ hostname: '127.0.0.1', port, data: this as Subscriber, socket: handlers })
    this.socket.write(this.request(`127.0.0.1:${port}`))
  }

  close(): void {
    this.closing = true
    this.socket?.terminate()
  }

  onData(chunk: Buffer): void {
    const now = performance.now()
    if (this.headDone) return this.onBody(chunk, 0, now)
    // The head may come in pieces; copy what we keep, since Bun may reuse the chunk's memory.
    const buf = this.head ? Buffer.concat([this.head, chunk]) : chunk
    const end = buf.indexOf(HEAD_END)
    if (end === -1) {
      this.head = Buffer.from(buf)
      return
    }
    this.head = undefined
    this.headDone = true
    if (!this.acceptHead(buf.toString('latin1', 0, end))) return
    if (end + HEAD_END.length < buf.length) this.onBody(buf, end + HEAD_END.length, now)
  }

  onClose(reason: string): void {
    if (this.closing) return
    this.closing = true
    this.tally.fail(`${reason} after ${this.events} events`)
  }

  /** Forgets the warm-up: counting starts again from zero. */
  restart(): void {
    this.events = 0
    this.complete = false
  }

  protected ready(): void {
    this.tally.ready++
  }

  protected fail(reason: string): void {
    this.onClose(reason)
    this.socket?.terminate()
  }

  protected delivered(count: number, now: number): void {
    this.events += count
    this.tally.received += count
    this.tally.lastDeliveryAt = now
    if (!this.complete && this.events >= this.tally.expected) {
      this.complete = true
      this.tally.complete++
    }
  }

  /**
   * Samples `ts=<µs>;` timestamps in buf[from, to) (the publisher's performance.now() in µs).
   * A timestamp cut by the end of the range is skipped: the count never depends on this.
   */
  protected sample(buf: Buffer, from: number, to: number, now: number, once: boolean): void {
    for (let at = buf.indexOf(TIMESTAMP, from); at !== -1 && at < to; at = buf.indexOf(TIMESTAMP, at + TIMESTAMP.length)) {
      let micros = 0
      let i = at + TIMESTAMP.length
      for (; i < to; i++) {
        const digit = (buf[i] as number) - 48
        if (digit < 0 || digit > 9) break
        micros = micros * 10 + digit
      }
      if (i < to && buf[i] === SEMICOLON) this.tally.latenciesMs.push(now - micros / 1000)
      if (once) return
    }
  }
}

/** One handler object for every socket (Bun's advice); the subscriber is the socket's data. */
const handlers: SocketHandler<Subscriber> = {
  data: (socket, chunk) => socket.data.onData(chunk),
  close: (socket) => socket.data.onClose('closed by the server'),
  end: (socket) => socket.data.onClose('ended by the server'),
  error: (socket, error) => socket.data.onClose(`socket error: ${error.message}`),
}

/** Connects every subscriber, `concurrency` at a time (a burst of 1000 SYNs can overflow the accept backlog). */
export async function connectAll(subscribers: readonly Subscriber[], port: number, concurrency = 100): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < subscribers.length) {
      const index = next++
      try {
        await (subscribers[index] as Subscriber).connect(port)
      } catch (error) {
        // Usually the open-files limit (of this process or the server's) or the accept backlog.
        throw new Error(`connection ${index + 1} of ${subscribers.length} failed: ${(error as Error).message} (check ulimit -n)`)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

/**
 * A raw TCP client for tests that need what fetch and WebSocket hide: exact request bytes, a
 * reader that stops reading (so the server meets real TCP backpressure), a socket destroyed
 * mid-stream, half-written requests. Speaks HTTP/1.1 (and WebSocket framing, see rawWebSocket) by hand.
 */
import { parseSseBlock } from './sse-parse'
import type { Socket } from 'bun'
import { waitFor } from './helpers'

const utf8 = new TextDecoder()

export class RawClient {
  private chunks: Uint8Array[] = []
  private pending: Uint8Array[] = []
  private size = 0
  /** Called on every arrival and on close, so waits react at once instead of polling. */
  private wake: (() => void)[] = []
  closed = false
  private constructor(private socket: Socket<undefined> | undefined) {}

  /** Connects to `base` (http://127.0.0.1:port). */
  static async connect(base: string): Promise<RawClient> {
    const url = new URL(base)
    const client = new RawClient(undefined)
    client.socket = await Bun.connect({
      hostname: url.hostname,
      port: Number(url.port),
      socket: {
        data: (_socket, chunk) => {
          client.chunks.push(new Uint8Array(chunk))
          client.size += chunk.byteLength
          client.notify()
        },
        drain: () => client.flush(),
        close: () => {
          client.closed = true
          client.notify()
        },
        error: () => {
          client.closed = true
          client.notify()
        },
      },
    })
    return client
  }

  /** Bytes received so far. */
  get received(): number {
    return this.size
  }

  /** Everything received so far, as bytes. */
  bytes(): Uint8Array {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)]
    return this.chunks[0] ?? new Uint8Array()
  }

  /** Everything received so far, decoded as UTF-8. */
  text(): string {
    return utf8.decode(this.bytes())
  }

  /** Queues bytes for sending; large writes go out as the socket drains. */
  write(data: string | Uint8Array): void {
    this.pending.push(typeof data === 'string' ? Buffer.from(data) : data)
    this.flush()
  }

  /** Resolves once every queued byte has been handed to the kernel (or the socket closed). */
  async flushed(ms = 5000): Promise<void> {
    await waitFor(() => this.pending.length === 0 || this.closed, 'the raw client to send its bytes', ms)
  }

  /** Stops reading: the kernel buffers fill and the server sees backpressure. */
  pause(): void {
    this.socket?.pause()
  }

  resume(): void {
    this.socket?.resume()
  }

  /** Closes gracefully (FIN). */
  end(): void {
    this.socket?.end()
  }

  /** Closes abruptly (RST-like: no more reads or writes). */
  destroy(): void {
    this.socket?.terminate()
    this.closed = true
  }

  /** Waits (reacting to each arrival, with a deadline) until `condition` holds. */
  async waitFor(condition: (client: RawClient) => boolean, what: string, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms
    while (!condition(this)) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${what} (have ${this.size} bytes: ${JSON.stringify(this.text().slice(-200))})`)
      await Promise.race([new Promise<void>((resolve) => this.wake.push(resolve)), Bun.sleep(Math.min(left, 50))])
    }
  }

  private notify(): void {
    const waiting = this.wake
    this.wake = []
    for (const resolve of waiting) resolve()
  }

  /** The response head and the body so far, with chunked transfer-encoding undone. */
  response(): { status: number; headers: Record<string, string>; body: string; complete: boolean } | undefined {
    const all = this.bytes()
    const text = Buffer.from(all).toString('latin1')
    const headEnd = text.indexOf('\r\n\r\n')
    if (headEnd === -1) return undefined
    const [statusLine = '', ...lines] = text.slice(0, headEnd).split('\r\n')
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    const status = Number(statusLine.split(' ')[1])
    const raw = all.subarray(headEnd + 4)
    if (headers['transfer-encoding'] !== 'chunked') {
      const length = Number(headers['content-length'] ?? Number.NaN)
      return { status, headers, body: utf8.decode(raw), complete: raw.byteLength >= length }
    }
    const parts: Uint8Array[] = []
    let offset = 0
    const view = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
    for (;;) {
      const lineEnd = view.indexOf('\r\n', offset, 'latin1')
      if (lineEnd === -1) break
      const length = Number.parseInt(view.toString('latin1', offset, lineEnd), 16)
      if (length === 0) return { status, headers, body: utf8.decode(Buffer.concat(parts)), complete: true }
      if (lineEnd + 2 + length + 2 > view.byteLength) break
      parts.push(view.subarray(lineEnd + 2, lineEnd + 2 + length))
      offset = lineEnd + 2 + length + 2
    }
    return { status, headers, body: utf8.decode(Buffer.concat(parts)), complete: false }
  }

  private flush(): void {
    while (this.pending.length > 0 && this.socket && !this.closed) {
      const next = this.pending[0] as Uint8Array
      const written = this.socket.write(next)
      if (written < 0) return
      if (written < next.byteLength) {
        this.pending[0] = next.subarray(written)
        return
      }
      this.pending.shift()
    }
  }
}

/** One SSE event parsed from a stream body: its fields, as sent. */
export interface RawSseEvent {
  id?: string
  event?: string
  data: string
  comment?: boolean
}

/** Parses complete SSE blocks from a body (per the WHATWG rules used by EventSource). */
export function parseSse(body: string): RawSseEvent[] {
  const events: RawSseEvent[] = []
  const blocks = body.split('\n\n')
  blocks.pop() // an incomplete tail
  for (const block of blocks) {
    const { id, event, data, comment } = parseSseBlock(block)
    if (comment) events.push({ data: '', comment: true })
    else events.push({ ...(id !== undefined && { id }), ...(event !== undefined && { event }), data })
  }
  return events
}

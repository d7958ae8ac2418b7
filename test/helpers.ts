import { createServer } from '../src/server'
import type { HeraldOptions } from '../src/config'
import { parseSseBlock } from './sse-parse'

/** A Herald server on an ephemeral port; `stop()` ends it and every connection. */
export interface TestServer {
  base: string
  wsBase: string
  hub: ReturnType<typeof createServer>['hub']
  stop(): Promise<void>
}

export async function startServer(overrides: Partial<HeraldOptions> = {}, listen: { idleTimeout?: number } = {}): Promise<TestServer> {
  const { app, hub } = createServer({ host: '127.0.0.1', port: 0, ...overrides })
  app.listen({ port: 0, hostname: '127.0.0.1', ...listen })
  const port = app.server?.port
  if (!port) throw new Error('server did not start')
  return {
    base: `http://127.0.0.1:${port}`,
    wsBase: `ws://127.0.0.1:${port}`,
    hub,
    stop: async () => {
      await app.stop(true)
    },
  }
}

/** Polls `condition` every 10 ms until it is truthy or `ms` pass (then throws with `what`). */
export async function waitFor<T>(condition: () => T | Promise<T>, what: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await condition()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10)
  }
}

export async function publish(base: string, topic: string, data: unknown, extra: Record<string, unknown> = {}): Promise<{ id: string; topic: string }> {
  const response = await fetch(`${base}/topics/${topic}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data, ...extra }),
  })
  if (response.status !== 200) throw new Error(`publish failed: ${response.status} ${await response.text()}`)
  return (await response.json()) as { id: string; topic: string }
}

/** One parsed SSE event (or comment, when `comment` is set). */
export interface SseEvent {
  id?: string
  event: string
  data: string
  retry?: number
}

/**
 * A minimal SSE client over fetch that parses the stream per the WHATWG rules and keeps the raw
 * text, so tests can assert both events and exact bytes.
 */
export class SseClient {
  readonly events: SseEvent[] = []
  raw = ''
  comments = 0
  ended = false
  status = 0
  headers = new Headers()
  private readonly controller = new AbortController()
  private buffer = ''

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient()
    const response = await fetch(url, { headers, signal: client.controller.signal })
    client.status = response.status
    client.headers = response.headers
    if (response.status !== 200 || !response.body) {
      client.raw = await response.text()
      client.ended = true
      return client
    }
    client.pump(response.body).catch(() => {})
    return client
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    const reader = body.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        const text = decoder.decode(value, { stream: true })
        this.raw += text
        this.buffer += text
        this.parse()
      }
    } finally {
      this.ended = true
    }
  }

  private parse(): void {
    for (let end = this.buffer.indexOf('\n\n'); end !== -1; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end)
      this.buffer = this.buffer.slice(end + 2)
      const { comment, id, event, data, retry } = parseSseBlock(block)
      if (comment) {
        this.comments++
        continue
      }
      this.events.push({ ...(id !== undefined && { id }), event: event ?? 'message', data, ...(retry !== undefined && { retry }) })
    }
  }

  /** Events that carry data (not the opening `retry:` block). */
  get messages(): SseEvent[] {
    return this.events.filter((event) => event.retry === undefined || event.data !== '')
  }

  async waitForMessages(count: number, ms = 5000): Promise<SseEvent[]> {
    await waitFor(() => this.messages.length >= count, `${count} SSE events (have ${this.messages.length}: ${JSON.stringify(this.messages.slice(-3))})`, ms)
    return this.messages
  }

  close(): void {
    this.controller.abort()
  }
}

export type WsMessage = { type: string } & Record<string, unknown>

/** A WebSocket test client that queues every server message for `next` / `waitFor`. */
export class WsClient {
  readonly messages: WsMessage[] = []
  closeCode: number | undefined
  private constructor(readonly socket: WebSocket) {
    socket.addEventListener('message', (event) => this.messages.push(JSON.parse(String(event.data)) as WsMessage))
    socket.addEventListener('close', (event) => (this.closeCode = event.code))
  }

  /** Opens `url`; `headers` (Bun's client sends them with the upgrade: Authorization, Cookie, Origin) are optional. */
  static async open(url: string, headers?: Record<string, string>): Promise<WsClient> {
    const socket = headers ? new WebSocket(url, { headers } as unknown as string[]) : new WebSocket(url)
    const client = new WsClient(socket)
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true })
      socket.addEventListener('error', () => reject(new Error(`could not open ${url}`)), { once: true })
    })
    return client
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  /** Waits for the first message received so far or later that matches. */
  async waitFor(match: (message: WsMessage) => boolean, what: string, ms = 5000): Promise<WsMessage> {
    const found = await waitFor(() => this.messages.find(match), `${what} (have ${JSON.stringify(this.messages.slice(-3))})`, ms)
    return found as WsMessage
  }

  ofType(type: string): WsMessage[] {
    return this.messages.filter((message) => message.type === type)
  }

  /** Sends a message with a fresh `ref` and waits for the reply carrying that ref. */
  async request(message: Record<string, unknown>): Promise<WsMessage> {
    const ref = crypto.randomUUID()
    this.send({ ...message, ref })
    return this.waitFor((reply) => reply.ref === ref, `reply to ${JSON.stringify(message)}`)
  }

  close(): void {
    this.socket.close()
  }
}

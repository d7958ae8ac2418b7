/**
 * The soak's subscriber connections, each able to stop reading (to play a slow client) and to be
 * destroyed abruptly: SSE over a raw TCP socket (HTTP/1.1 and chunked decoding by hand, so `pause`
 * stops the kernel from taking more), and WebSocket with Bun's client (which can pause too).
 */
import type { Socket } from 'bun'

/** One event as a subscriber saw it. */
export interface SeenEvent {
  id: string
  topic: string
  data: string
}

/** What a connection tells its owner. */
export interface ConnectionEvents {
  /** The subscription is live (SSE: the stream opened; WS: `subscribed`). */
  onLive(): void
  onEvent(event: SeenEvent): void
  onReset(): void
  /** The connection is over; `cut` when the server ended it because the client was too slow. */
  onEnd(how: 'cut' | 'closed'): void
}

export interface SubscriberConnection {
  pause(): void
  resume(): void
  /** Closes without ceremony (RST for SSE, no close frame for WS). */
  destroy(): void
}

/** SSE over a raw socket: `GET /events?topic=…` with Last-Event-ID, parsed incrementally. */
export async function openSse(host: string, port: number, selectors: readonly string[], lastEventId: string | undefined, events: ConnectionEvents): Promise<SubscriberConnection> {
  let buffer = Buffer.alloc(0)
  let headDone = false
  let text = ''
  let ended = false
  let sawOverflow = false
  const decoder = new TextDecoder()
  const end = (how: 'cut' | 'closed') => {
    if (ended) return
    ended = true
    events.onEnd(how)
  }
  const parseBlocks = () => {
    for (let at = text.indexOf('\n\n'); at !== -1; at = text.indexOf('\n\n')) {
      const block = text.slice(0, at)
      text = text.slice(at + 2)
      const fields: Record<string, string> = {}
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith(':') || line === '') continue
        const colon = line.indexOf(':')
        const name = colon === -1 ? line : line.slice(0, colon)
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (name === 'data') data.push(value)
        else fields[name] = value
      }
      if (fields.retry !== undefined && fields.id === undefined && data.length === 0) {
        events.onLive()
        continue
      }
      if (fields.event === 'reset') events.onReset()
      else if (fields.event === 'overflow') sawOverflow = true
      else if (fields.event === 'shutdown') continue
      else if (fields.id !== undefined) {
        // The soak publishes `<topic>|<payload>` so the topic travels in the data.
        const payload = data.join('\n')
        events.onEvent({ id: fields.id, topic: payload.slice(0, payload.indexOf('|')), data: payload })
      }
    }
  }
  const socket: Socket<undefined> = await Bun.connect({
    hostname: host,
    port,
    socket: {
      data(_socket, chunk) {
        buffer = buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([buffer, chunk])
        if (!headDone) {
          const headEnd = buffer.indexOf('\r\n\r\n')
          if (headEnd === -1) return
          if (!buffer.subarray(0, 12).toString().startsWith('HTTP/1.1 200')) {
            socket.end()
            return end('closed')
          }
          headDone = true
          buffer = buffer.subarray(headEnd + 4)
        }
        // Chunked transfer-encoding: <hex>\r\n<bytes>\r\n … 0\r\n\r\n
        for (;;) {
          const lineEnd = buffer.indexOf('\r\n')
          if (lineEnd === -1) break
          const size = Number.parseInt(buffer.subarray(0, lineEnd).toString(), 16)
          if (size === 0) {
            socket.end()
            return end(sawOverflow ? 'cut' : 'closed')
          }
          if (buffer.length < lineEnd + 2 + size + 2) break
          text += decoder.decode(buffer.subarray(lineEnd + 2, lineEnd + 2 + size), { stream: true })
          buffer = buffer.subarray(lineEnd + 2 + size + 2)
        }
        parseBlocks()
      },
      close: () => end(sawOverflow ? 'cut' : 'closed'),
      error: () => end('closed'),
    },
  })
  const query = selectors.map((selector) => `topic=${encodeURIComponent(selector)}`).join('&')
  socket.write(`GET /events?${query} HTTP/1.1\r\nHost: ${host}\r\nAccept: text/event-stream\r\n${lastEventId ? `Last-Event-ID: ${lastEventId}\r\n` : ''}\r\n`)
  return {
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    destroy: () => {
      socket.terminate()
      end('closed')
    },
  }
}

type BunWebSocket = WebSocket & { pause(): boolean; resume(): boolean; terminate(): void }

/** A WebSocket subscriber: `subscribe {topics, lastEventId}` on open. */
export function openWs(host: string, port: number, selectors: readonly string[], lastEventId: string | undefined, events: ConnectionEvents): SubscriberConnection {
  const socket = new WebSocket(`ws://${host}:${port}/ws`) as BunWebSocket
  let ended = false
  socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'subscribe', topics: selectors, lastEventId })))
  socket.addEventListener('message', (message) => {
    const parsed = JSON.parse(String(message.data)) as { type: string; id?: string; topic?: string; data?: unknown }
    if (parsed.type === 'subscribed') events.onLive()
    else if (parsed.type === 'reset') events.onReset()
    else if (parsed.type === 'event') events.onEvent({ id: parsed.id as string, topic: parsed.topic as string, data: parsed.data as string })
  })
  socket.addEventListener('close', (close) => {
    if (ended) return
    ended = true
    // 1006 without our doing, or 1013 (too slow, from Herald): the server cut a slow reader.
    events.onEnd(close.code === 1006 || close.code === 1013 ? 'cut' : 'closed')
  })
  return {
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    destroy: () => {
      ended = true
      socket.terminate()
      events.onEnd('closed')
    },
  }
}

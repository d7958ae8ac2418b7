import type { Server, ServerWebSocket } from 'bun'
import { Elysia } from 'elysia'
import type { Delivery } from '../hub/delivery'
import { HubError } from '../hub/errors'
import type { HubEvent } from '../hub/event'
import type { Hub } from '../hub/hub'
import type { Subscriber } from '../hub/registry'
import type { Selector } from '../hub/topics'
import type { Logger } from '../log'
import { wsEventFrame, wsMessage } from './frames'

export interface WsOptions {
  /** Largest `data` a client may publish, in bytes (larger → `payload_too_large`); frames over this plus WS_ENVELOPE_BYTES are closed with 1009. */
  maxMessageBytes: number
  /** Unsent bytes before Bun closes a slow socket (`backpressureLimit`). */
  backpressureBytes: number
}

/** Bytes a WebSocket message may carry beyond the data limit: topic, event name, id, ref, JSON syntax. */
export const WS_ENVELOPE_BYTES = 4096

/** What one client may send. Every message is a JSON object with a `type`; `ref` is echoed back. */
type ClientMessage = Record<string, unknown> & { type?: unknown; ref?: unknown }

/**
 * Per-connection state. Concrete topics are Bun-native subscriptions (`ws.subscribe`, delivered by
 * one `server.publish` per event). Patterns cannot be native, so the connection registers one hub
 * subscriber for all its patterns; it skips topics the socket already gets natively, so an event
 * matching both a topic and a pattern arrives once.
 */
class Connection implements Subscriber {
  selectors: Selector[] = []
  private detach: (() => void) | undefined

  constructor(
    private readonly socket: ServerWebSocket<unknown>,
    private readonly hub: Hub,
  ) {}

  receive(delivery: Delivery): void {
    if (this.socket.isSubscribed(delivery.event.topic)) return
    this.socket.send(delivery.encode(wsEventFrame))
  }

  add(selectors: readonly Selector[]): void {
    const patterns = new Map(this.selectors.map((selector) => [selector.source, selector]))
    for (const selector of selectors) {
      if (selector.isPattern) patterns.set(selector.source, selector)
      else this.socket.subscribe(selector.source)
    }
    this.setPatterns([...patterns.values()])
  }

  remove(selectors: readonly Selector[]): void {
    const gone = new Set(selectors.map((selector) => selector.source))
    for (const source of gone) if (this.socket.isSubscribed(source)) this.socket.unsubscribe(source)
    this.setPatterns(this.selectors.filter((selector) => !gone.has(selector.source)))
  }

  /** Every topic and pattern this socket is subscribed to. */
  topics(): string[] {
    return [...this.socket.subscriptions, ...this.selectors.map((selector) => selector.source)]
  }

  close(): void {
    this.detach?.()
    this.detach = undefined
  }

  closeSocket(code: number, reason: string): void {
    this.socket.close(code, reason)
  }

  private setPatterns(selectors: Selector[]): void {
    this.detach?.()
    this.detach = undefined
    this.selectors = selectors
    if (selectors.length > 0) this.detach = this.hub.attach(this)
  }
}

function send(socket: ServerWebSocket<unknown>, message: { type: string } & Record<string, unknown>, ref: unknown): void {
  socket.send(wsMessage(ref === undefined ? message : { ...message, ref }))
}

function sendError(socket: ServerWebSocket<unknown>, error: unknown, ref: unknown, log: Logger): void {
  const hubError = error instanceof HubError ? error : new HubError('invalid_message', 'the message could not be handled')
  if (!(error instanceof HubError)) log.error('websocket message failed', { error })
  send(socket, { type: 'error', ...hubError.toJSON() }, ref)
}

/**
 * Bun's WebSocket settings. They are server-wide in Bun, and Elysia reads them only from the root
 * app's `websocket` config (options on a `.ws()` route are ignored), so app.ts passes these there.
 */
export function wsServerOptions(options: WsOptions) {
  return {
    // Room for the envelope around `data` (whose own limit gives a `payload_too_large` error);
    // Bun closes the socket with 1009 (message too big) past this.
    maxPayloadLength: options.maxMessageBytes + WS_ENVELOPE_BYTES,
    backpressureLimit: options.backpressureBytes,
    closeOnBackpressureLimit: true,
    idleTimeout: 120,
    sendPings: true,
  }
}

/**
 * `GET /ws`: the WebSocket transport. Client → server: `subscribe {topics, lastEventId?}`,
 * `unsubscribe {topics}`, `publish {topic, data, event?, id?}`, `ping`. Server → client: `event`,
 * `subscribed`, `unsubscribed`, `published`, `reset`, `error`, `pong`.
 */
export function wsTransport(hub: Hub, options: WsOptions, log: Logger) {
  const connections = new Map<string, Connection>()
  let removeFanout: (() => void) | undefined

  const subscribe = async (socket: ServerWebSocket<unknown>, id: string, topics: unknown, lastEventId: unknown, ref: unknown) => {
    const selectors = hub.parseSelectors(topics)
    if (lastEventId !== undefined && lastEventId !== null && typeof lastEventId !== 'string') {
      throw new HubError('invalid_last_event_id', '"lastEventId" must be a string')
    }
    const after = hub.parseLastEventId(lastEventId)
    await hub.catchUp(selectors, after, (missed: HubEvent[], resetTo) => {
      const connection = connections.get(id)
      if (!connection) return
      // All in one synchronous step: acknowledge, replay, then go live, so no event falls between.
      send(socket, { type: 'subscribed', topics: selectors.map((selector) => selector.source) }, ref)
      if (resetTo) send(socket, { type: 'reset', lastEventId: lastEventId ?? null, head: resetTo }, ref)
      for (const event of missed) socket.send(wsEventFrame(event))
      connection.add(selectors)
    })
  }

  const handle = async (socket: ServerWebSocket<unknown>, id: string, raw: unknown) => {
    let message: ClientMessage
    if (typeof raw === 'string') {
      try {
        message = JSON.parse(raw)
      } catch {
        throw new HubError('malformed_json', 'messages must be JSON text')
      }
    } else if (typeof raw === 'object' && raw !== null && !ArrayBuffer.isView(raw)) {
      message = raw as ClientMessage // Elysia already parsed the JSON text
    } else {
      throw new HubError('invalid_message', 'messages must be JSON objects sent as text frames')
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      throw new HubError('invalid_message', 'a message must be a JSON object with a "type"')
    }
    const ref = message.ref
    switch (message.type) {
      case 'subscribe':
        return subscribe(socket, id, message.topics ?? message.topic, message.lastEventId, ref)
      case 'unsubscribe': {
        const selectors = hub.parseSelectors(message.topics ?? message.topic)
        connections.get(id)?.remove(selectors)
        return send(socket, { type: 'unsubscribed', topics: selectors.map((selector) => selector.source) }, ref)
      }
      case 'publish': {
        const [event] = await hub.publish([{ topic: message.topic as string, data: message.data, event: message.event as string | undefined, id: message.id as string | undefined }])
        if (event) send(socket, { type: 'published', topic: event.topic, id: event.id }, ref)
        return
      }
      case 'ping':
        return send(socket, { type: 'pong' }, ref)
      default:
        throw new HubError('unknown_type', `unknown message type ${JSON.stringify(message.type ?? null)}: use subscribe, unsubscribe, publish or ping`)
    }
  }

  const plugin = new Elysia({ name: 'herald-ws' })
    .onStart(({ server }) => {
      if (!server) return
      const native: Server<unknown> = server
      removeFanout?.()
      // One server.publish per event: Bun writes the same frame to every native subscriber.
      removeFanout = hub.addFanout((delivery) => {
        if (native.subscriberCount(delivery.event.topic) > 0) native.publish(delivery.event.topic, delivery.encode(wsEventFrame))
      })
    })
    .onStop(() => {
      removeFanout?.()
      removeFanout = undefined
    })
    .ws('/ws', {
      beforeHandle({ request }) {
        // Reject a bad ?topic= before the upgrade, with an HTTP error a browser can show.
        const url = new URL(request.url)
        const topics = url.searchParams.getAll('topic')
        if (topics.length > 0) hub.parseSelectors(topics)
        hub.parseLastEventId(url.searchParams.get('lastEventId'))
      },
      open(ws) {
        const socket = ws.raw as ServerWebSocket<unknown>
        connections.set(ws.id, new Connection(socket, hub))
        const url = new URL((ws.data as { request: Request }).request.url)
        const topics = url.searchParams.getAll('topic')
        if (topics.length > 0) {
          subscribe(socket, ws.id, topics, url.searchParams.get('lastEventId') ?? undefined, undefined).catch((error) => sendError(socket, error, undefined, log))
        }
      },
      message(ws, raw) {
        const socket = ws.raw as ServerWebSocket<unknown>
        handle(socket, ws.id, raw).catch((error) => sendError(socket, error, (raw as ClientMessage | null)?.ref, log))
      },
      close(ws) {
        connections.get(ws.id)?.close()
        connections.delete(ws.id)
      },
    })

  return {
    plugin,
    /** Open sockets (for /stats and leak tests). */
    count: () => connections.size,
    /** Closes every socket, e.g. with 1001 (going away) on shutdown. */
    closeAll(code: number, reason: string): void {
      for (const connection of connections.values()) connection.closeSocket(code, reason)
    },
  }
}

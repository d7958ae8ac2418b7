import type { Server, ServerWebSocket } from 'bun'
import { Elysia } from 'elysia'
import { HubError } from '../hub/errors'
import type { HubEvent } from '../hub/event'
import type { Hub } from '../hub/hub'
import type { Logger } from '../log'
import { wsEventFrame, wsMessage } from './frames'
import { Connection } from './ws-connection'

export interface WsOptions {
  /** Largest `data` a client may publish, in bytes (larger → `payload_too_large`); frames over this plus WS_ENVELOPE_BYTES are closed with 1009. */
  maxMessageBytes: number
  /** Unsent bytes before Bun closes a slow socket (`backpressureLimit`). */
  backpressureBytes: number
  /** Live events a resuming socket may have waiting behind its replay before it is cut (default 4096). */
  queueSize?: number
  /** Messages per second one socket may send, in bursts of as many; more get `rate_limited` (0 or absent = no limit). */
  messageRate?: number
}

/** Bytes a WebSocket message may carry beyond the data limit: topic, event name, id, ref, JSON syntax. */
export const WS_ENVELOPE_BYTES = 4096

/** What one client may send. Every message is a JSON object with a `type`; `ref` is echoed back. */
type ClientMessage = Record<string, unknown> & { type?: unknown; ref?: unknown }

/** A socket, or its connection (whose sends notice Bun's backpressure cut). */
type Target = ServerWebSocket<unknown> | Connection | undefined

function send(target: Target, message: { type: string } & Record<string, unknown>, ref: unknown): void {
  target?.send(wsMessage(ref === undefined ? message : { ...message, ref }))
}

function sendError(target: Target, error: unknown, ref: unknown, log: Logger): void {
  const hubError = error instanceof HubError ? error : new HubError('invalid_message', 'the message could not be handled')
  if (!(error instanceof HubError)) log.error('websocket message failed', { error })
  send(target, { type: 'error', ...hubError.toJSON() }, ref)
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
  /** Sockets closed because they read too slowly, since start (shown in /stats as slowConsumers.ws). */
  let closedSlow = 0
  hub.report('slowConsumers', 'ws', () => closedSlow)
  const limits = { backpressureBytes: options.backpressureBytes, queueSize: options.queueSize ?? 4096, messageRate: options.messageRate ?? 0 }

  const subscribe = async (id: string, topics: unknown, lastEventId: unknown, ref: unknown) => {
    const selectors = hub.parseSelectors(topics)
    if (lastEventId !== undefined && lastEventId !== null && typeof lastEventId !== 'string') {
      throw new HubError('invalid_last_event_id', '"lastEventId" must be a string')
    }
    const after = hub.parseLastEventId(lastEventId)
    const connection = connections.get(id)
    await connection?.serially(() =>
      hub.catchUp(selectors, after, (missed: HubEvent[], resetTo) => {
        if (!connections.has(id)) return
        // All in one synchronous step: acknowledge, then replay and go live, so no event falls between.
        send(connection, { type: 'subscribed', topics: selectors.map((selector) => selector.source) }, ref)
        if (resetTo) send(connection, { type: 'reset', lastEventId: lastEventId ?? null, head: resetTo }, ref)
        connection.goLive(selectors, missed)
      }),
    )
  }

  const handle = async (id: string, raw: unknown) => {
    const connection = connections.get(id)
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
        return subscribe(id, message.topics ?? message.topic, message.lastEventId, ref)
      case 'unsubscribe': {
        const selectors = hub.parseSelectors(message.topics ?? message.topic)
        // After any subscribe still catching up, so the two apply in the order they were sent.
        return connection?.serially(async () => {
          connection.remove(selectors)
          send(connection, { type: 'unsubscribed', topics: selectors.map((selector) => selector.source) }, ref)
        })
      }
      case 'publish': {
        const [event] = await hub.publish([{ topic: message.topic as string, data: message.data, event: message.event as string | undefined, id: message.id as string | undefined }])
        if (event) send(connection, { type: 'published', topic: event.topic, id: event.id }, ref)
        return
      }
      case 'ping':
        return send(connection, { type: 'pong' }, ref)
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
        const topic = delivery.event.topic
        if (native.subscriberCount(topic) === 0) return
        // 0 = a subscriber dropped the frame: Bun's backpressure limit is cutting it. Find which (rare).
        if (native.publish(topic, delivery.encode(wsEventFrame)) === 0) {
          for (const connection of connections.values()) if (connection.isSubscribed(topic)) connection.checkCut()
        }
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
        // 503 before the upgrade; the connection is counted from open to close.
        hub.checkCapacity()
      },
      open(ws) {
        const socket = ws.raw as ServerWebSocket<unknown>
        connections.set(ws.id, new Connection(socket, hub, limits))
        const url = new URL((ws.data as { request: Request }).request.url)
        const topics = url.searchParams.getAll('topic')
        if (topics.length > 0) {
          subscribe(ws.id, topics, url.searchParams.get('lastEventId') ?? undefined, undefined).catch((error) => sendError(connections.get(ws.id), error, undefined, log))
        }
      },
      message(ws, raw) {
        const connection = connections.get(ws.id)
        // Refused before parsing: a flood costs one bucket check per message. The socket stays open.
        if (connection && !connection.rate.take()) {
          sendError(connection, new HubError('rate_limited', `more than ${limits.messageRate} messages per second; this one was dropped, slow down`), (raw as ClientMessage | null)?.ref, log)
          return
        }
        handle(ws.id, raw).catch((error) => sendError(connections.get(ws.id), error, (raw as ClientMessage | null)?.ref, log))
      },
      drain(ws) {
        connections.get(ws.id)?.flush()
      },
      close(ws) {
        const connection = connections.get(ws.id)
        if (connection?.cut) closedSlow++
        connection?.close()
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

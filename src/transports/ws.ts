import type { ServerWebSocket } from 'bun'
import { Elysia } from 'elysia'
import type { AuthPrincipal } from '../auth/types'
import type { EdgeAuth } from '../api/edge-auth'
import { SUBSCRIBE_SECURITY } from '../api/openapi-security'
import { HubError } from '../hub/errors'
import type { HubEvent, WsServerType } from '../hub/event'
import type { Hub } from '../hub/hub'
import type { Logger } from '../log'
import { errorBody, STATUS_BY_CODE } from '../api/errors'
import type { RouteGuard } from '../api/route-guard'
import { wsMessage } from './frames'
import { SocketAuth } from './ws-auth'
import { Connection } from './ws-connection'
import { clientMessageType } from './ws-messages'
import { NativeFanout } from './ws-native'

export interface WsOptions {
  /** Largest `data` a client may publish, in bytes (larger → `payload_too_large`); frames over this plus WS_ENVELOPE_BYTES are closed with 1009. */
  maxMessageBytes: number
  /** Unsent bytes before Bun closes a slow socket (`backpressureLimit`). */
  backpressureBytes: number
  /** Live events a resuming socket may have waiting behind its replay before it is cut (default 4096). */
  queueSize?: number
  /** Messages per second one socket may send, in bursts of as many; more get `rate_limited` (0 or absent = no limit). */
  messageRate?: number
  /** Topics and patterns one socket may hold, over all its subscribes; past it `too_many_topics` (default 256). */
  maxConnectionTopics?: number
  /** With a key configured: milliseconds a socket that connected without a token has to send `auth` (or hold a public subscription) before it is closed with 4408 (0 = no deadline; default 10 s). */
  authTimeoutMs?: number
}

/** Bytes a WebSocket message may carry beyond the data limit: topic, event name, id, ref, JSON syntax. */
export const WS_ENVELOPE_BYTES = 4096

/** What one client may send. Every message is a JSON object with a `type`; `ref` is echoed back. */
type ClientMessage = Record<string, unknown> & { type?: unknown; ref?: unknown }

/**
 * What each upgraded socket carries (`ws.data`): the ?topic= / ?lastEventId= to subscribe on open,
 * its principal at the upgrade, why it may not publish at all (no key, not loopback), and once open
 * its Connection and (with a key) its SocketAuth.
 */
interface SocketData {
  topics: string[]
  lastEventId: string | undefined
  principal: AuthPrincipal
  refusal: HubError | undefined
  connection: Connection | undefined
  auth: SocketAuth | undefined
}

/** Parses one client frame; binary frames and anything but a JSON object are refused. */
function parseClientMessage(raw: string | Buffer): ClientMessage {
  if (typeof raw !== 'string') throw new HubError('invalid_message', 'messages must be JSON objects sent as text frames')
  let message: unknown
  try {
    message = JSON.parse(raw)
  } catch {
    throw new HubError('malformed_json', 'messages must be JSON text')
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new HubError('invalid_message', 'a message must be a JSON object with a "type"')
  }
  return message as ClientMessage
}

function rateLimited(rate: number): HubError {
  return new HubError('rate_limited', `more than ${rate} messages per second; this one was dropped, slow down`)
}

/** A socket, or its connection (whose sends notice Bun's backpressure cut). */
type Target = ServerWebSocket<unknown> | Connection | undefined

function send(target: Target, message: { type: WsServerType } & Record<string, unknown>, ref: unknown): void {
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
 * `unsubscribe {topics}`, `publish {topic, data, event?, id?, private?}`, `auth {token}`, `ping`.
 * Server → client: `event`, `subscribed`, `unsubscribed`, `published`, `authenticated`, `reset`,
 * `error`, `pong`. The upgrade is refused from a foreign origin (403 `forbidden_origin`) and, with
 * a key configured, for a bad token (401); a socket without a token is anonymous until it sends
 * `auth` (see ws-auth.ts for the deadline, refresh and expiry, and their close codes).
 */
export function wsTransport(hub: Hub, options: WsOptions, log: Logger, guard: RouteGuard, edge: EdgeAuth) {
  const connections = new Set<Connection>()
  const native = new NativeFanout<Connection>(hub)
  const authTimeoutMs = options.authTimeoutMs ?? 10_000
  /** Sockets closed because they read too slowly, since start (shown in /stats as slowConsumers.ws). */
  let closedSlow = 0
  hub.report('slowConsumers', 'ws', () => closedSlow)
  // Topics the native fan-out holds for live sockets: back to 0 when they are all gone (leak tests).
  hub.report('gauges', 'wsNativeTopics', () => native.topics)
  const limits = { backpressureBytes: options.backpressureBytes, queueSize: options.queueSize ?? 4096, messageRate: options.messageRate ?? 0, maxTopics: options.maxConnectionTopics ?? 256 }

  /** The socket's principal now: its SocketAuth's (which a refresh changes), else the upgrade's. */
  const principalOf = (data: SocketData): AuthPrincipal => data.auth?.principal ?? data.principal

  const subscribe = async (data: SocketData, connection: Connection, topics: unknown, lastEventId: unknown, ref: unknown) => {
    const selectors = hub.parseSelectors(topics)
    if (lastEventId !== undefined && lastEventId !== null && typeof lastEventId !== 'string') {
      throw new HubError('invalid_last_event_id', '"lastEventId" must be a string')
    }
    const after = hub.parseLastEventId(lastEventId)
    edge.checkSubscribe(hub, selectors, principalOf(data))
    await connection.serially(async () => {
      // Checked again with the principal of this moment: an auth message may have changed it since.
      edge.checkSubscribe(hub, selectors, principalOf(data))
      // Room first, all or nothing: a subscribe past a limit is refused and changes nothing.
      const fresh = connection.hold(selectors)
      try {
        await hub.catchUp(
          selectors,
          after,
          (missed: HubEvent[], resetTo) => {
            if (!connections.has(connection)) return
            // All in one synchronous step: acknowledge, then replay and go live, so no event falls between.
            send(connection, { type: 'subscribed', topics: selectors.map((selector) => selector.source), head: hub.head }, ref)
            if (resetTo) send(connection, { type: 'reset', lastEventId: lastEventId ?? null, head: resetTo }, ref)
            connection.goLive(selectors, missed)
          },
          connection.principal,
        )
      } catch (error) {
        connection.remove(fresh)
        throw error
      }
    })
  }

  const handle = async (data: SocketData, connection: Connection, message: ClientMessage) => {
    const ref = message.ref
    const type = clientMessageType(message)
    if (type === 'auth') return authenticate(data, message.token, ref)
    // Messages sent after an auth message are handled with the principal it brings.
    if (data.auth?.pending) await data.auth.pending
    switch (type) {
      case 'subscribe':
        return subscribe(data, connection, message.topics ?? message.topic, message.lastEventId, ref)
      case 'unsubscribe': {
        const selectors = hub.parseSelectors(message.topics ?? message.topic)
        // After any subscribe still catching up, so the two apply in the order they were sent.
        return connection.serially(async () => {
          connection.remove(selectors)
          send(connection, { type: 'unsubscribed', topics: selectors.map((selector) => selector.source) }, ref)
        })
      }
      case 'publish': {
        const principal = principalOf(data)
        // The no-key address rule is for requests without a token; a token's claims decide the rest.
        const refusal = principal.anonymous ? (data.refusal ?? edge.anonymousPublishRefusal(principal)) : undefined
        if (refusal) throw refusal
        const input = { topic: message.topic as string, data: message.data, event: message.event as string | undefined, id: message.id as string | undefined, private: message.private as boolean | undefined }
        const [event] = await hub.publish([input], principal)
        if (event) send(connection, { type: 'published', topic: event.topic, id: event.id }, ref)
        return
      }
      case 'ping':
        return send(connection, { type: 'pong' }, ref)
    }
  }

  const authenticate = async (data: SocketData, token: unknown, ref: unknown) => {
    const connection = data.connection
    if (!data.auth) throw new HubError('invalid_message', 'this Herald has no key configured: there is no token to send (leave out the auth message)')
    const principal = await data.auth.authenticate(token)
    send(connection, { type: 'authenticated', subject: principal.subject ?? null, expiresAt: principal.expiresAt ?? null }, ref)
  }

  /**
   * Bun's per-socket callbacks. Elysia's Bun adapter hands every socket event to `ws.data.open`,
   * `.message`, `.drain` and `.close`; sockets upgraded below carry a small SocketData whose
   * prototype is this object, so they cost one object each instead of a copy of Elysia's request
   * context and its closures (measured with `bun run bench`: 13.6 → 8.3 KiB of RSS per idle socket).
   */
  const callbacks = {
    open(this: SocketData, socket: ServerWebSocket<SocketData>) {
      const connection = new Connection(socket as ServerWebSocket<unknown>, hub, limits, this.principal, native)
      this.connection = connection
      connections.add(connection)
      if (edge.acceptsTokens) {
        // No deadline without a key: a socket without a token is then an ordinary anonymous one.
        this.auth = new SocketAuth(connection, edge, this.principal, edge.auth.enabled ? authTimeoutMs : 0, (error, code, reason) => {
          sendError(connection, error, undefined, log)
          connection.closeSocket(code, reason)
        })
      }
      if (this.topics.length > 0) {
        subscribe(this, connection, this.topics, this.lastEventId, undefined).catch((error) => sendError(connection, error, undefined, log))
      }
    },
    message(this: SocketData, _socket: ServerWebSocket<SocketData>, raw: string | Buffer) {
      const connection = this.connection
      if (!connection) return
      const allowed = connection.rate.take()
      let message: ClientMessage
      try {
        message = parseClientMessage(raw)
      } catch (error) {
        sendError(connection, allowed ? error : rateLimited(limits.messageRate), undefined, log)
        return
      }
      // Over the rate the message is dropped (its ref still answered); the socket stays open.
      if (!allowed) {
        sendError(connection, rateLimited(limits.messageRate), message.ref, log)
        return
      }
      handle(this, connection, message).catch((error) => sendError(connection, error, message.ref, log))
    },
    drain(this: SocketData) {
      this.connection?.flush()
    },
    close(this: SocketData) {
      this.auth?.stop()
      this.auth = undefined
      const connection = this.connection
      if (!connection) return
      if (connection.cut) closedSlow++
      connection.close()
      connections.delete(connection)
      this.connection = undefined
    },
  }

  const plugin = new Elysia({ name: 'herald-ws' })
    .onStart(({ server }) => {
      // One server.publish per event on the topics sockets hold natively (ws-native.ts).
      native.server = server ?? undefined
    })
    .onStop(() => {
      native.server = undefined
    })
    .get(
      '/ws',
      (context) =>
        guard.run(context, () => {
          const { request, server, set } = context
          // A foreign page may not open a socket in a user's name (cookies, or loopback without a key).
          edge.checkOrigin(request, 'a WebSocket connection')
          // Checked before the upgrade, so a bad ?topic= gets an HTTP error a browser can show.
          const url = new URL(request.url)
          const topics = url.searchParams.getAll('topic')
          if (topics.length > 0) hub.parseSelectors(topics)
          const lastEventId = url.searchParams.get('lastEventId') ?? undefined
          hub.parseLastEventId(lastEventId)
          // 503 before the upgrade; the connection is counted from open to close.
          hub.checkCapacity()
          // With no key: whether this peer may publish at all (loopback), fixed for the socket's life.
          const refusal = edge.addressRefusal(request, server)
          const upgrade = (principal: AuthPrincipal) => {
            // The principal may refuse a ?topic= (401 / 403) before the upgrade, like a subscribe message after it.
            if (topics.length > 0) edge.checkSubscribe(hub, hub.parseSelectors(topics), principal)
            const data: SocketData = Object.assign(Object.create(callbacks), { topics, lastEventId, principal, refusal, connection: undefined, auth: undefined })
            if (server?.upgrade(request, { data })) return
            set.status = STATUS_BY_CODE.upgrade_required
            set.headers.upgrade = 'websocket'
            return errorBody('upgrade_required', 'GET /ws is a WebSocket endpoint: connect with a WebSocket client')
          }
          // Synchronous when the principal is (no token): no extra turn on every upgrade.
          const principal = edge.subscriber(request)
          return principal instanceof Promise ? principal.then(upgrade) : upgrade(principal)
        }),
      {
        detail: {
          tags: ['Subscribe'],
          security: SUBSCRIBE_SECURITY,
          summary: 'Subscribe and publish over a WebSocket (upgrade)',
          description:
            'JSON text messages, each with a `type`. Client: `subscribe {topics, lastEventId?}`, `unsubscribe {topics}`, `publish {topic, data, event?, id?, private?}`, `auth {token}`, `ping` (`topic` may stand for `topics`; any other field is refused with `unknown_field`). Server: `event {topic, id, event?, data}`, `subscribed`, `unsubscribed`, `published`, `authenticated {subject, expiresAt}`, `reset`, `error {code, message}`, `pong`. A `ref` on a client message is echoed on the reply. With a key configured, send a token at the upgrade (Authorization header, herald_token cookie, ?access_token=) or as the first message `auth {token}`; close codes: 4401 token expired, 4408 no token in time.',
          parameters: [
            { name: 'topic', in: 'query', schema: { type: 'array', items: { type: 'string' } }, style: 'form', explode: true, description: 'Topics or patterns to subscribe to on open' },
            { name: 'lastEventId', in: 'query', schema: { type: 'string' }, description: 'Resume after this id (with topic)' },
            { name: 'access_token', in: 'query', schema: { type: 'string' }, description: 'A token (browsers cannot set headers on a WebSocket); or send it in an auth message' },
          ],
          responses: {
            101: { description: 'Switching protocols' },
            400: { description: 'Bad topic or lastEventId' },
            401: { description: 'A bad or expired token, or ?topic= beyond the public topics without one' },
            403: { description: 'forbidden_origin (a page of another origin), forbidden_topic (the token does not cover a ?topic=)' },
            426: { description: 'Not a WebSocket request' },
            503: { description: 'Too many connections' },
          },
        },
      },
    )

  return {
    plugin,
    /** Open sockets (for /stats and leak tests). */
    count: () => connections.size,
    /** Closes every socket, e.g. with 1001 (going away) on shutdown. */
    closeAll(code: number, reason: string): void {
      for (const connection of connections) connection.closeSocket(code, reason)
    },
  }
}

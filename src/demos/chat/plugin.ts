import { Elysia, t } from 'elysia'
import type { Authenticator } from '../../auth/types'
import type { ClusterMembership } from '../../cluster/membership'
import { HubError } from '../../hub/errors'
import type { Hub } from '../../hub/hub'
import { parseSelector } from '../../hub/topics'
import type { DemoSigner } from '../demo-tokens'
import { chatCaller, chatReader } from './caller'
import { RoomHistory } from './history'
import { ClusterDirectory } from './cluster-directory'
import { type ChatDirectory, LocalDirectory } from './directory'
import { CHAT_NAME, CHAT_TEXT_MAX, CLAIM_KEY, chatSubscriptions, claimTopic, inboxTopic, roomTopic } from './topics'

export interface ChatOptions {
  /** Milliseconds between checks for users who left without saying so; default 1000. */
  presenceSweepMs?: number
  /** Messages kept per room for late joiners; default 50. */
  historyPerRoom?: number
  /** Rooms whose messages are kept; past it the least recently active room is forgotten; default 100. */
  historyRooms?: number
  /** Lifetime of a demo token, in milliseconds; default 15 minutes (pages refresh theirs before it ends). */
  tokenTtlMs?: number
  /** Milliseconds a page that got a token has to connect before its name may go to someone else; default 10 s. */
  claimGraceMs?: number
  /** Most names held at once; past it a new name is refused (503 `too_many_connections`); default 10,000. */
  maxNames?: number
  /** On a cluster: milliseconds between each node's scans for pages that connected to it, users who left, and nodes that died; default 250. */
  clusterScanMs?: number
}

/** How the chat authenticates: the server's Authenticator, and its demo signer (undefined: demo tokens are off). */
export interface ChatAuth {
  auth: Authenticator
  demo: DemoSigner | undefined
}

const ErrorBody = t.Object({ error: t.Object({ code: t.String(), message: t.String() }) })
const TextBody = t.Object({ text: t.String() })
const Sent = t.Object({ id: t.String() })

function checkName(name: string, what: 'a name' | 'a room'): void {
  if (!CHAT_NAME.test(name)) throw new HubError('invalid_name', `${what} is 1 to 24 of A-Z a-z 0-9 _ -`)
}

/** A message's text as sent: 1 to CHAT_TEXT_MAX characters, not only white space. */
function checkText(text: string): void {
  if (text.length > CHAT_TEXT_MAX || text.trim() === '') throw new HubError('invalid_data', `"text" is 1 to ${CHAT_TEXT_MAX} characters, not only white space`)
}

/**
 * The chat's server side. Every chat topic is server-owned: pages never publish, they ask these
 * routes, which publish on behalf of the token in the request's `Authorization` header, with
 * `from` taken from the token's `sub` (never from the body):
 * - `POST /chat/token {name, key}`: claims the name for the page's key (409 `name_taken` while
 *   another page holds it; see NameClaims) and answers a short-lived demo token for it: subscribe
 *   to every room and roster, to `chat/users/{sub}/**` and to the page's claim topic; publish
 *   nothing. 404 when demo tokens are off (a key configured without `--demo-tokens`).
 * - `POST /chat/rooms/{room}/messages {text}`: a room message; `POST /chat/users/{name}/messages
 *   {text}`: a direct message, a private event on the recipient's inbox that only a token for that
 *   name can read.
 * - `POST /chat/rooms/{room}/join` and `/leave`: presence. A user is online while the page holding
 *   their name is connected (its claim topic has a subscriber), so a closed tab leaves the roster.
 * - `GET /chat/rooms/{room}/messages`: the room's recent messages, for whoever may subscribe to
 *   the room (a token, or anyone where subscribing is open).
 */
export function chatDemo(hub: Hub, { auth, demo }: ChatAuth, options: ChatOptions = {}, cluster?: ClusterMembership) {
  const sweepMs = options.presenceSweepMs ?? 1000
  const ttlMs = options.tokenTtlMs ?? 15 * 60_000
  const history = new RoomHistory({ perRoom: options.historyPerRoom ?? 50, rooms: options.historyRooms ?? 100 })
  let directory: ChatDirectory | undefined
  let detachHistory: (() => void) | undefined
  const running = () => {
    if (!directory) throw new HubError('shutting_down', 'the chat is not running')
    return directory
  }
  return new Elysia({ name: 'herald-chat' })
    .onStart(({ server }) => {
      if (!server) return
      directory?.stop()
      const connected = (key: string) => server.subscriberCount(claimTopic(key)) > 0
      const limits = { connected, graceMs: options.claimGraceMs ?? 10_000, maxNames: options.maxNames ?? 10_000 }
      // On a cluster names and rosters live in Redis, so every node agrees on them (see cluster-directory.ts).
      directory = cluster ? new ClusterDirectory(hub, cluster, { ...limits, scanMs: options.clusterScanMs ?? 250 }) : new LocalDirectory(hub, { ...limits, sweepMs })
      detachHistory ??= hub.watch(['chat/room/*'], (delivery) => history.receive(delivery))
    })
    .onStop(() => {
      directory?.stop()
      directory = undefined
      detachHistory?.()
      detachHistory = undefined
      history.clear()
    })
    .post(
      '/chat/token',
      async ({ body }) => {
        if (!demo) {
          throw new HubError('not_found', 'this server hands out no demo tokens: it has a key configured. Start it with --demo-tokens to play with the chat locally (never on a public server), or bring a token of your own')
        }
        checkName(body.name, 'a name')
        if (!CLAIM_KEY.test(body.key)) throw new HubError('invalid_key', 'key is 16 to 64 of A-Z a-z 0-9 _ -, made up by the page and kept for the tab')
        const refusal = await running().claim(body.name, body.key)
        if (refusal === 'taken') throw new HubError('name_taken', `${body.name} is already in the chat; pick another name`)
        if (refusal === 'full') throw new HubError('too_many_connections', 'the chat holds as many names as it can; try again later')
        await demo.ready?.()
        const { token, expiresAt } = demo.sign({ sub: body.name, subscribe: chatSubscriptions(body.key) }, ttlMs)
        return { name: body.name, token, expiresAt }
      },
      {
        body: t.Object({ name: t.String(), key: t.String() }),
        detail: {
          tags: ['Demos'],
          summary: 'Chat: claim a name and get a demo token for it',
          description: `A page makes up a key (16 to 64 of A-Z a-z 0-9 _ -, kept per tab and shown to nobody) and asks for a name with it; the token (HS256, ${Math.round(ttlMs / 60_000)} minutes) has \`sub\` = the name and may subscribe to chat/room/*, chat/presence/*, chat/users/{sub}/** and chat/claim/{key}; it publishes nothing (the chat routes publish for it). 409 name_taken while another key holds the name (its page is connected, or got its token less than 10 s ago); the same key may ask again (a reconnect, a refresh, a reload). On by default without a key; with a key only with --demo-tokens: anyone who can reach the server gets a token, so never on a public server.`,
          responses: { 200: { description: 'The token, and when it expires (ms since the epoch)' }, 400: { description: 'invalid_name, invalid_key' }, 404: { description: 'demo tokens are off' }, 409: { description: 'name_taken' } },
        },
        response: { 200: t.Object({ name: t.String(), token: t.String(), expiresAt: t.Number() }), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody },
      },
    )
    .post(
      '/chat/rooms/:room/messages',
      async ({ params, body, request }) => {
        checkName(params.room, 'a room')
        const { principal, name } = await chatCaller(request, auth, running())
        const topic = roomTopic(params.room)
        if (!principal.maySubscribe(parseSelector(topic))) throw new HubError('forbidden_topic', `your token does not cover ${topic}, so you may not speak there`)
        checkText(body.text)
        const [event] = await hub.publish([{ topic, data: { from: name, text: body.text } }])
        return { id: event?.id ?? '' }
      },
      {
        body: TextBody,
        detail: { tags: ['Demos'], summary: 'Chat: say something in a room (as your token\'s sub)', description: `Published to chat/room/{room} as {"from": <your token's sub>, "text"}; text is 1 to ${CHAT_TEXT_MAX} characters. Any "from" in the body is ignored.` },
        response: { 200: Sent, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 409: ErrorBody },
      },
    )
    .post(
      '/chat/users/:name/messages',
      async ({ params, body, request }) => {
        checkName(params.name, 'a name')
        const { name } = await chatCaller(request, auth, running())
        checkText(body.text)
        const [event] = await hub.publish([{ topic: inboxTopic(params.name), event: 'direct', data: { from: name, to: params.name, text: body.text }, private: true }])
        return { id: event?.id ?? '' }
      },
      {
        body: TextBody,
        detail: { tags: ['Demos'], summary: 'Chat: send a direct message (as your token\'s sub)', description: 'A private `direct` event {"from", "to", "text"} on chat/users/{name}/inbox: only a token whose subscribe claims cover that topic (the recipient\'s) receives it, never a wildcard subscriber.' },
        response: { 200: Sent, 400: ErrorBody, 401: ErrorBody, 409: ErrorBody },
      },
    )
    .post(
      '/chat/rooms/:room/join',
      async ({ params, request }) => {
        checkName(params.room, 'a room')
        const { name } = await chatCaller(request, auth, running())
        const users = await running().join(params.room, name)
        if (!users) throw new HubError('not_subscribed', `${name} is not connected: subscribe to your claim topic (chat/claim/<key>) over /ws first, then join`)
        return { room: params.room, users }
      },
      {
        detail: { tags: ['Demos'], summary: 'Chat: enter a room\'s roster (as your token\'s sub)', description: 'Adds you to the roster of chat/presence/{room}, which the server publishes. 409 not_subscribed unless your page is connected (subscribed to its claim topic over /ws).' },
        response: { 200: t.Object({ room: t.String(), users: t.Array(t.String()) }), 400: ErrorBody, 401: ErrorBody, 409: ErrorBody },
      },
    )
    .post(
      '/chat/rooms/:room/leave',
      async ({ params, request }) => {
        checkName(params.room, 'a room')
        const { name } = await chatCaller(request, auth, running())
        return { room: params.room, users: await running().leave(params.room, name) }
      },
      {
        detail: { tags: ['Demos'], summary: 'Chat: leave a room\'s roster (as your token\'s sub)' },
        response: { 200: t.Object({ room: t.String(), users: t.Array(t.String()) }), 400: ErrorBody, 401: ErrorBody, 409: ErrorBody },
      },
    )
    .get(
      '/chat/rooms/:room/messages',
      async ({ params, request }) => {
        checkName(params.room, 'a room')
        const principal = await chatReader(request, auth)
        const topic = roomTopic(params.room)
        if (!principal.maySubscribe(parseSelector(topic))) {
          throw principal.anonymous ? new HubError('missing_token', `reading ${topic} needs a token: send it as "Authorization: Bearer <token>"`) : new HubError('forbidden_topic', `your token does not cover ${topic}`)
        }
        return { room: params.room, messages: history.messages(params.room) }
      },
      {
        detail: {
          tags: ['Demos'],
          summary: 'Chat: the recent messages of a room, oldest first',
          description: `The last ${options.historyPerRoom ?? 50} room messages ({"from","text"} with text of 1 to ${CHAT_TEXT_MAX} characters) published on this server since it started, each with its event id and time. Never direct messages. For whoever may subscribe to the room: with a key configured, a token covering chat/room/{room}.`,
        },
        response: {
          200: t.Object({ room: t.String(), messages: t.Array(t.Object({ id: t.String(), from: t.String(), text: t.String(), at: t.String() })) }),
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
        },
      },
    )
}

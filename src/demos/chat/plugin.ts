import { Elysia, t } from 'elysia'
import { errorBody } from '../../api/errors'
import type { Hub } from '../../hub/hub'
import { RoomHistory } from './history'
import { NameClaims } from './names'
import { Presence } from './presence'
import { CHAT_NAME, CHAT_TEXT_MAX, CLAIM_KEY, claimTopic, userTopic } from './topics'

export interface ChatOptions {
  /** Milliseconds between checks for users who left without saying so; default 1000. */
  presenceSweepMs?: number
  /** Messages kept per room for late joiners; default 50. */
  historyPerRoom?: number
  /** Rooms whose messages are kept; past it the least recently active room is forgotten; default 100. */
  historyRooms?: number
}

const ErrorBody = t.Object({ error: t.Object({ code: t.String(), message: t.String() }) })

/**
 * The chat's server side. Messages and direct messages are plain publishes over Herald's WebSocket
 * protocol (see public/chat.js); this adds three things pages cannot do alone:
 * - presence: a user is online while some WebSocket on this server subscribes to their
 *   `chat/user/<name>` topic (Bun tracks that per topic and drops it when the socket closes);
 * - names: `POST /chat/names/{name}?key=` claims a name, refused with 409 `name_taken` while
 *   someone else holds it and is connected (first come, first served: see NameClaims);
 * - history: `GET /chat/rooms/{room}/messages`, the room's recent messages for a page that joins.
 */
export function chatPresence(hub: Hub, options: ChatOptions = {}) {
  const sweepMs = options.presenceSweepMs ?? 1000
  const history = new RoomHistory({ perRoom: options.historyPerRoom ?? 50, rooms: options.historyRooms ?? 100 })
  let presence: Presence | undefined
  let names: NameClaims | undefined
  let detachHistory: (() => void) | undefined
  return new Elysia({ name: 'herald-chat' })
    .onStart(({ server }) => {
      if (!server) return
      presence?.stop()
      names?.clear()
      const subscribers = (user: string) => server.subscriberCount(userTopic(user))
      presence = new Presence(hub, { isOnline: (user) => subscribers(user) > 0, sweepMs })
      presence.start()
      names = new NameClaims({ connected: (key) => server.subscriberCount(claimTopic(key)) > 0, sweepMs })
      detachHistory ??= hub.watch(['chat/room/*'], (delivery) => history.receive(delivery))
    })
    .onStop(() => {
      presence?.stop()
      presence = undefined
      names?.clear()
      names = undefined
      detachHistory?.()
      detachHistory = undefined
      history.clear()
    })
    .post(
      '/chat/names/:name',
      ({ params, query, set }) => {
        const name = params.name
        if (!CHAT_NAME.test(name)) {
          set.status = 400
          return errorBody('invalid_name', 'a name is 1 to 24 of A-Z a-z 0-9 _ -')
        }
        if (typeof query.key !== 'string' || !CLAIM_KEY.test(query.key)) {
          set.status = 400
          return errorBody('invalid_key', 'key is 16 to 64 of A-Z a-z 0-9 _ -, made up by the page and kept for the tab')
        }
        if (!names) {
          set.status = 503
          return errorBody('shutting_down', 'the chat is not running')
        }
        const refusal = names.claim(name, query.key)
        if (refusal === 'taken') {
          set.status = 409
          return errorBody('name_taken', `${name} is already in the chat; pick another name`)
        }
        if (refusal === 'not_subscribed') {
          set.status = 409
          return errorBody('not_subscribed', 'subscribe to chat/claim/<key> (and chat/user/<name>) over /ws first, then claim the name')
        }
        return { name }
      },
      {
        query: t.Object({ key: t.Optional(t.String()) }),
        detail: {
          tags: ['Demos'],
          summary: 'Chat: claim a name (first come, first served)',
          description:
            'The page subscribes over /ws to chat/user/{name} and chat/claim/{key} (key: 16 to 64 of A-Z a-z 0-9 _ -, made up per tab and shown to nobody), then claims the name with that key. 409 name_taken while another key holds the name and its claim topic still has a subscriber; the same key may claim again (a reconnect or reload). There are no accounts: this keeps two honest users from sharing a name, it proves nothing about who anyone is.',
          responses: { 200: { description: 'The name is yours while you stay subscribed' }, 400: { description: 'invalid_name, invalid_key' }, 409: { description: 'name_taken, not_subscribed' } },
        },
        response: { 200: t.Object({ name: t.String() }), 400: ErrorBody, 409: ErrorBody, 503: ErrorBody },
      },
    )
    .get(
      '/chat/rooms/:room/messages',
      ({ params, set }) => {
        if (!CHAT_NAME.test(params.room)) {
          set.status = 400
          return errorBody('invalid_name', 'a room is 1 to 24 of A-Z a-z 0-9 _ -')
        }
        return { room: params.room, messages: history.messages(params.room) }
      },
      {
        detail: {
          tags: ['Demos'],
          summary: 'Chat: the recent messages of a room, oldest first',
          description: `The last ${options.historyPerRoom ?? 50} room messages ({"from","text"} with text of 1 to ${CHAT_TEXT_MAX} characters) published on this server since it started, each with its event id and time. Never direct messages.`,
        },
        response: {
          200: t.Object({ room: t.String(), messages: t.Array(t.Object({ id: t.String(), from: t.String(), text: t.String(), at: t.String() })) }),
          400: ErrorBody,
        },
      },
    )
}

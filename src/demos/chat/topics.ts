/**
 * The chat's topics and data rules, shared by the page (public/chat.js applies the same rules) and
 * the server side (tokens, presence, name claims, room history). Every chat topic is server-owned
 * (CHAT_SERVER_TOPICS): the server publishes each event itself, on behalf of the token that asked.
 * - `chat/room/<room>`: messages (`{"from", "text"}`, `from` the sender's token `sub`);
 * - `chat/presence/<room>`: the room's roster (`presence`);
 * - `chat/users/<name>/inbox`: direct messages (`direct`) to one user, private events only a token
 *   for that name may read (`chat/users/{sub}/**` in its claims);
 * - `chat/claim/<key>`: never published to; a page subscribes to it to show it is still connected
 *   under the name it claimed with that key (see names.ts).
 */
import { escapeSegment } from '../../hub/escape'

/** Names and rooms: 1 to 24 of A-Z a-z 0-9 _ - (so each is one valid topic segment). */
export const CHAT_NAME = /^[A-Za-z0-9_-]{1,24}$/

/** Longest message text, in UTF-16 code units (the page's `maxlength`); longer ones are not shown or kept. */
export const CHAT_TEXT_MAX = 2000

export function roomTopic(room: string): string {
  return `chat/room/${room}`
}

/** Where the server publishes a room's roster. */
export function presenceTopic(room: string): string {
  return `chat/presence/${room}`
}

/**
 * Every chat topic: server-owned (publishers get 403 `forbidden_topic`, whatever their token), so
 * no one can post as someone else, fake who is online, or write into anyone's inbox.
 */
export const CHAT_SERVER_TOPICS = 'chat/**'

/** Where a user's direct messages go (private events): `name` as one escaped segment, as `{sub}` expands in a token. */
export function inboxTopic(name: string): string {
  return `chat/users/${escapeSegment(name)}/inbox`
}

/** What a chat token for the page holding claim `key` may subscribe to: every room and roster, its own user's topics, its claim topic. It publishes nothing itself. */
export function chatSubscriptions(key: string): string[] {
  return ['chat/room/*', 'chat/presence/*', 'chat/users/{sub}/**', claimTopic(key)]
}

/** A claim key: 16 to 64 of A-Z a-z 0-9 _ - (one topic segment), made up by the page. */
export const CLAIM_KEY = /^[A-Za-z0-9_-]{16,64}$/

export function claimTopic(key: string): string {
  return `chat/claim/${key}`
}

/** The room a room topic names, or undefined for any other topic. */
export function roomOf(topic: string): string | undefined {
  const room = topic.startsWith('chat/room/') ? topic.slice('chat/room/'.length) : undefined
  return room !== undefined && CHAT_NAME.test(room) ? room : undefined
}

/** A room message as the server publishes it: `{"from", "text"}`. */
export interface ChatText {
  from: string
  text: string
}

/**
 * The message in an event's JSON data, if it is one the page would show: `from` a valid name,
 * `text` a string of 1 to CHAT_TEXT_MAX code units that is not only white space. Anything else
 * (not JSON, wrong types, missing fields, huge text) is undefined.
 */
export function chatText(data: string): ChatText | undefined {
  let value: unknown
  try {
    value = JSON.parse(data)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const { from, text } = value as { from?: unknown; text?: unknown }
  if (typeof from !== 'string' || !CHAT_NAME.test(from)) return undefined
  if (typeof text !== 'string' || text.length > CHAT_TEXT_MAX || text.trim() === '') return undefined
  return { from, text }
}

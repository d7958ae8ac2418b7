/**
 * The chat's topics and data rules, shared by the page (public/chat.js applies the same rules) and
 * the server side (presence, name claims, room history):
 * - `chat/room/<room>`: messages (`message`), arrivals (`join`) and departures (`leave`);
 * - `chat/presence/<room>`: the room's roster (`presence`), published by the server alone (a
 *   server-owned topic: PRESENCE_TOPICS);
 * - `chat/user/<name>`: direct messages (`direct`) to one user, whose page alone subscribes to it;
 * - `chat/claim/<key>`: never published to; a page subscribes to it to show it is still connected
 *   under the name it claimed with that key (see names.ts).
 */
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

/** Every roster topic: server-owned (publishers get 403), so no one else can fake who is online. */
export const PRESENCE_TOPICS = 'chat/presence/*'

export function userTopic(name: string): string {
  return `chat/user/${name}`
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

/** A room message as the page sends it: `{"from", "text"}`. */
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

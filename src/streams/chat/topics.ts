/**
 * The chat's topics, shared by the page (public/chat.js) and the presence service:
 * - `chat/room/<room>`: messages (`message`), arrivals (`join`), departures (`leave`) and the
 *   roster (`presence`, published by the server);
 * - `chat/user/<name>`: direct messages (`direct`) to one user, whose page alone subscribes to it.
 */
/** Names and rooms: 1 to 24 of A-Z a-z 0-9 _ - (so each is one valid topic segment). */
export const CHAT_NAME = /^[A-Za-z0-9_-]{1,24}$/

export function roomTopic(room: string): string {
  return `chat/room/${room}`
}

export function userTopic(name: string): string {
  return `chat/user/${name}`
}

/** The room a room topic names, or undefined for any other topic. */
export function roomOf(topic: string): string | undefined {
  const room = topic.startsWith('chat/room/') ? topic.slice('chat/room/'.length) : undefined
  return room !== undefined && CHAT_NAME.test(room) ? room : undefined
}

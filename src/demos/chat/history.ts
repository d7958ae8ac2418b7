import type { Delivery } from '../../hub/delivery'
import { chatText, roomOf } from './topics'

/** One room message as `GET /chat/rooms/{room}/messages` lists it. */
export interface ChatMessage {
  /** The event's hub id (`<ms>-<seq>`): pages order and deduplicate by it. */
  id: string
  from: string
  text: string
  /** When it was published, RFC 3339 in UTC. */
  at: string
}

export interface RoomHistoryOptions {
  /** Messages kept per room, newest last; older ones are dropped. */
  perRoom: number
  /** Rooms kept; past it the room with the oldest last message is dropped whole. */
  rooms: number
}

/**
 * The recent messages of each chat room, for pages that join late. It keeps only what a page
 * would show: `message` events on `chat/room/<room>` whose data passes `chatText` (so its memory
 * is bounded by perRoom × rooms × CHAT_TEXT_MAX). Direct messages (`chat/users/…`), joins, leaves
 * and rosters are never kept, so the history cannot show anyone a message meant for one user.
 */
export class RoomHistory {
  /** Map order is least recently active room first. */
  private readonly byRoom = new Map<string, ChatMessage[]>()

  constructor(private readonly options: RoomHistoryOptions) {}

  /** Looks at one delivered event and keeps it if it is a room message. */
  receive(delivery: Delivery): void {
    const { topic, event, data, json, id, time } = delivery.event
    // A page shows only JSON objects (a string that happens to hold JSON arrives as a string).
    if ((event !== undefined && event !== 'message') || !json) return
    const room = roomOf(topic)
    if (room === undefined) return
    const text = chatText(data)
    if (text === undefined) return
    this.add(room, { id, ...text, at: new Date(time).toISOString() })
  }

  /** The room's kept messages, oldest first (a copy). */
  messages(room: string): ChatMessage[] {
    return [...(this.byRoom.get(room) ?? [])]
  }

  /** Rooms with messages kept (for tests and leak checks). */
  get size(): number {
    return this.byRoom.size
  }

  clear(): void {
    this.byRoom.clear()
  }

  private add(room: string, message: ChatMessage): void {
    let list = this.byRoom.get(room)
    if (list) this.byRoom.delete(room)
    else {
      list = []
      if (this.byRoom.size >= this.options.rooms) {
        const oldest = this.byRoom.keys().next().value
        if (oldest !== undefined) this.byRoom.delete(oldest)
      }
    }
    this.byRoom.set(room, list)
    list.push(message)
    if (list.length > this.options.perRoom) list.splice(0, list.length - this.options.perRoom)
  }
}


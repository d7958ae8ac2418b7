import type { Delivery } from '../../hub/delivery'
import type { Hub } from '../../hub/hub'
import { CHAT_NAME, presenceTopic, roomOf } from './topics'

/** The `presence` event's data: who is in the room now, sorted. */
export interface Roster {
  room: string
  users: string[]
}

export interface PresenceOptions {
  /** True while `user` has a live connection (the plugin asks Bun whether anyone subscribes to the user's topic). */
  isOnline: (user: string) => boolean
  /** Milliseconds between checks for users whose connection went away without a `leave`. */
  sweepMs: number
}

/**
 * Who is in each chat room. Pages publish `join` / `leave` events ({"user": name}) to their room;
 * this watches every room, keeps the rosters, and publishes a `presence` event (a Roster) to the
 * room's presence topic (server-owned) whenever one changes (and on every join, so a newcomer gets the list). A tab that closes
 * sends nothing, so a sweep drops users who are no longer online; it runs only while some room
 * has someone in it.
 */
export class Presence {
  private readonly rooms = new Map<string, Set<string>>()
  private timer: ReturnType<typeof setInterval> | undefined
  private detach: (() => void) | undefined

  constructor(
    private readonly hub: Hub,
    private readonly options: PresenceOptions,
  ) {}

  /**
   * Starts listening to the room topics as an observer (hub.watch), so it is not counted among
   * the hub's subscribers; the test it runs per event is two string comparisons.
   */
  start(): void {
    this.detach ??= this.hub.watch(['chat/room/*'], (delivery) => this.receive(delivery))
  }

  stop(): void {
    this.detach?.()
    this.detach = undefined
    this.rooms.clear()
    this.stopSweeping()
  }

  /** The users in `room`, sorted. */
  roster(room: string): string[] {
    return [...(this.rooms.get(room) ?? [])].sort()
  }

  /** True while the sweep timer runs (tests check it stops when the rooms empty). */
  get sweeping(): boolean {
    return this.timer !== undefined
  }

  /** Looks at one delivered event; only `join` and `leave` on a room topic matter. */
  receive(delivery: Delivery): void {
    const { topic, event, data } = delivery.event
    if ((event !== 'join' && event !== 'leave') || !topic.startsWith('chat/room/')) return
    const room = roomOf(topic)
    const user = userIn(data)
    if (room === undefined || user === undefined) return
    // Delivery is synchronous inside the hub's publish path: change state and publish after it.
    queueMicrotask(() => (event === 'join' ? this.join(room, user) : this.leave(room, user)))
  }

  private join(room: string, user: string): void {
    // "Online" means connected: a join from someone with no live connection is not believed.
    if (!this.options.isOnline(user)) return
    let users = this.rooms.get(room)
    if (!users) this.rooms.set(room, (users = new Set()))
    users.add(user)
    this.publish(room)
    this.startSweeping()
  }

  private leave(room: string, user: string): void {
    const users = this.rooms.get(room)
    if (!users?.delete(user)) return
    if (users.size === 0) this.rooms.delete(room)
    this.publish(room)
    if (this.rooms.size === 0) this.stopSweeping()
  }

  private sweep(): void {
    for (const [room, users] of this.rooms) {
      for (const user of users) if (!this.options.isOnline(user)) this.leave(room, user)
    }
  }

  private publish(room: string): void {
    const roster: Roster = { room, users: this.roster(room) }
    this.hub.publish([{ topic: presenceTopic(room), event: 'presence', data: roster }]).catch(() => {
      // Only fails while the hub shuts down; the rosters go with it.
    })
  }

  private startSweeping(): void {
    this.timer ??= setInterval(() => this.sweep(), this.options.sweepMs)
  }

  private stopSweeping(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}

/** The `user` of a join/leave event's JSON data, if it is a valid name. */
function userIn(data: string): string | undefined {
  try {
    const user = (JSON.parse(data) as { user?: unknown } | null)?.user
    return typeof user === 'string' && CHAT_NAME.test(user) ? user : undefined
  } catch {
    return undefined
  }
}

import type { Hub } from '../../hub/hub'
import { presenceTopic } from './topics'

/** The `presence` event's data: who is in the room now, sorted. */
export interface Roster {
  room: string
  users: string[]
}

export interface PresenceOptions {
  /** True while `user` has a live connection (the plugin asks whether the page holding the name is connected: NameClaims.online). */
  isOnline: (user: string) => boolean
  /** Milliseconds between checks for users whose connection went away without a `leave`. */
  sweepMs: number
}

/**
 * Who is in each chat room. The chat's routes call `join` and `leave` for the user their token
 * names (never for a name in a request body); this keeps the rosters and publishes a `presence`
 * event (a Roster) to the room's presence topic (server-owned) whenever one changes (and on every
 * join, so a newcomer gets the list). A tab that closes sends nothing, so a sweep drops users who
 * are no longer online; it runs only while some room has someone in it.
 */
export class Presence {
  private readonly rooms = new Map<string, Set<string>>()
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly hub: Hub,
    private readonly options: PresenceOptions,
  ) {}

  stop(): void {
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

  /**
   * Puts `user` (a valid name: the caller checked it) in `room` and publishes the roster. False,
   * changing nothing, when the user is not online: "online" means connected, so a join from
   * someone with no live connection is not believed.
   */
  join(room: string, user: string): boolean {
    if (!this.options.isOnline(user)) return false
    let users = this.rooms.get(room)
    if (!users) this.rooms.set(room, (users = new Set()))
    users.add(user)
    this.publish(room)
    this.startSweeping()
    return true
  }

  /** Takes `user` out of `room`, publishing the roster if they were in it. */
  leave(room: string, user: string): void {
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

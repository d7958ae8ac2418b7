import type { Hub } from '../../hub/hub'
import { type ClaimRefusal, NameClaims } from './names'
import { Presence } from './presence'

/**
 * Who holds each chat name and who is in each room: what the chat's routes ask. One node keeps it
 * in memory (LocalDirectory); a cluster keeps it in Redis (ClusterDirectory), so a name held on one
 * node cannot be taken on another and a roster lists the users of every node. Either one publishes
 * each roster change itself, once, to `chat/presence/<room>`.
 */
export interface ChatDirectory {
  /** Claims `name` for the page holding `key`; undefined on success, else why not (see NameClaims). */
  claim(name: string, key: string): Promise<ClaimRefusal | undefined>
  /** The key holding `name`, if any. */
  holder(name: string): Promise<string | undefined>
  /** Puts `user` in `room` and publishes the roster; the roster after, or undefined (nothing changed) when the user is not connected. */
  join(room: string, user: string): Promise<string[] | undefined>
  /** Takes `user` out of `room`, publishing the roster if they were in it; the roster after. */
  leave(room: string, user: string): Promise<string[]>
  /** The users in `room`, sorted. */
  roster(room: string): Promise<string[]>
  stop(): void
}

export interface LocalDirectoryOptions {
  /** True while some WebSocket of this server subscribes to `chat/claim/<key>`. */
  connected: (key: string) => boolean
  sweepMs: number
  graceMs: number
  maxNames: number
}

/** One node's directory: NameClaims and Presence, in this process. */
export class LocalDirectory implements ChatDirectory {
  readonly names: NameClaims
  readonly presence: Presence

  constructor(hub: Hub, options: LocalDirectoryOptions) {
    this.names = new NameClaims(options)
    const names = this.names
    this.presence = new Presence(hub, { isOnline: (user) => names.online(user), sweepMs: options.sweepMs })
  }

  async claim(name: string, key: string): Promise<ClaimRefusal | undefined> {
    return this.names.claim(name, key)
  }

  async holder(name: string): Promise<string | undefined> {
    return this.names.holder(name)
  }

  async join(room: string, user: string): Promise<string[] | undefined> {
    return this.presence.join(room, user) ? this.presence.roster(room) : undefined
  }

  async leave(room: string, user: string): Promise<string[]> {
    this.presence.leave(room, user)
    return this.presence.roster(room)
  }

  async roster(room: string): Promise<string[]> {
    return this.presence.roster(room)
  }

  stop(): void {
    this.presence.stop()
    this.names.clear()
  }
}

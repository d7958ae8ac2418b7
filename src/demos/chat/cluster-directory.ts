import type { ClusterMembership } from '../../cluster/membership'
import type { Hub } from '../../hub/hub'
import type { Logger } from '../../log'
import type { ChatDirectory } from './directory'
import type { ClaimRefusal } from './names'
import { CLAIM, CONFIRM, DISCONNECT, JOIN, LEAVE, SCAN } from './cluster-scripts'
import { presenceTopic } from './topics'

export interface ClusterDirectoryOptions {
  /** True while some WebSocket of this node subscribes to `chat/claim/<key>`. */
  connected: (key: string) => boolean
  /** Milliseconds between this node's scans: claims whose page connected here, users of this node who left, nodes that died. */
  scanMs: number
  /** Milliseconds a claimant has to connect before its name may go to someone else. */
  graceMs: number
  /** Most names held at once, over the cluster. */
  maxNames: number
  log?: Logger
}

/** A roster as a script answers it: room, version, users. */
type RosterReply = [string, number, string[]]

/** The `presence` event of a cluster: the Roster plus a version pages use to keep the newest (rosters from two nodes may arrive in either order). */
export interface VersionedRoster {
  room: string
  users: string[]
  /** Strictly increasing per cluster (Redis time in µs); a page ignores a roster older than the one it shows. */
  version: number
}

/**
 * The chat's names and rosters on a cluster, in Redis under `<prefix>:chat:` (scripts in
 * cluster-scripts.ts): a name held on one node cannot be taken on another, a roster lists the users
 * of every node, and each change is published once, by the node that made it, with a version.
 *
 * Whose page is connected where: only the node a page's WebSocket reaches can see it (its claim
 * topic has a subscriber there). Each node scans every `scanMs`: claims made in the last grace
 * (a claim can be made through one node and the page connect to another; a page reconnecting
 * through another node claims again first) are checked against its own subscribers and confirmed
 * as its own; its own users whose page went away are marked offline (out of their rooms); and the
 * users of nodes that died (membership run out) are marked offline, by whichever node scans first.
 * A user who claimed again since (a reconnect) keeps its rooms instead and has the rest of its
 * grace to show up on some node. A join that finds its page not yet found waits for a scan (at
 * most two scan periods) before it is refused. Redis traffic: one script per node per scan, whatever
 * the number of users; one or two per claim, join and leave.
 */
export class ClusterDirectory implements ChatDirectory {
  /** Names whose page this node confirmed connected here → their claim key. */
  private readonly local = new Map<string, string>()
  private readonly timer: ReturnType<typeof setInterval>
  private scanning: Promise<void> | undefined
  private readonly prefix: string
  private readonly keys: string[]
  private readonly removeBeat: () => void
  private stopped = false

  constructor(
    private readonly hub: Hub,
    private readonly cluster: ClusterMembership,
    private readonly options: ClusterDirectoryOptions,
  ) {
    const k = cluster.keys
    this.prefix = `${k.key('chat')}:`
    this.keys = [k.key('chat', 'claims'), k.key('chat', 'pending'), k.nodes, k.key('chat', 'nodes'), k.key('chat', 'version')]
    this.timer = setInterval(() => void this.scan(), options.scanMs)
    // Counted as gone while cut from Redis (or Redis restarted empty): its users were taken offline
    // or forgotten; claim their names again for the pages still connected here.
    this.removeBeat = cluster.onBeat(async (rejoined) => {
      if (!rejoined) return
      for (const [name, key] of [...this.local]) {
        const [status, changed] = options.connected(key) ? ((await this.run(CLAIM, [name, key, options.graceMs, options.maxNames, cluster.id])) as [string, RosterReply[]]) : ['gone', []]
        await this.publish(changed)
        if (status !== 'ok') this.local.delete(name)
      }
    })
  }

  async claim(name: string, key: string): Promise<ClaimRefusal | undefined> {
    const here = this.options.connected(key) ? this.cluster.id : ''
    const [status, changed] = (await this.run(CLAIM, [name, key, this.options.graceMs, this.options.maxNames, here])) as [string, RosterReply[]]
    await this.publish(changed)
    if (status === 'taken' || status === 'full') return status
    if (here !== '') this.local.set(name, key)
    return undefined
  }

  async holder(name: string): Promise<string | undefined> {
    const raw = (await this.cluster.link.send('HGET', [this.keys[0] as string, name])) as string | null
    if (raw === null) return undefined
    const claim = JSON.parse(raw) as { key?: unknown }
    return typeof claim.key === 'string' ? claim.key : undefined
  }

  async join(room: string, user: string): Promise<string[] | undefined> {
    const deadline = Date.now() + 2 * this.options.scanMs + 100
    for (;;) {
      const reply = await this.run(JOIN, [user, room])
      if (Array.isArray(reply)) {
        const [version, users] = reply as [number, string[]]
        await this.publish([[room, version, users]])
        return [...users].sort()
      }
      // Not connected as far as Redis knows: maybe here and not scanned yet, maybe on a node that has not scanned yet.
      const key = await this.holder(user)
      if (key === undefined) return undefined
      if (this.options.connected(key)) {
        await this.confirm(user, key)
        continue
      }
      if (Date.now() >= deadline) return undefined
      await Bun.sleep(Math.min(25, this.options.scanMs))
    }
  }

  async leave(room: string, user: string): Promise<string[]> {
    const [version, users] = (await this.run(LEAVE, [user, room])) as [number, string[]]
    if (version !== 0) await this.publish([[room, version, users]])
    return [...users].sort()
  }

  async roster(room: string): Promise<string[]> {
    return ((await this.cluster.link.send('SMEMBERS', [`${this.prefix}room:${room}`])) as string[]).sort()
  }

  /** One scan now (skipped while one is running). Never rejects: while Redis is away the scan just does nothing. */
  scan(): Promise<void> {
    this.scanning ??= this.scanOnce()
      .catch((error) => this.options.log?.debug('chat scan failed', { error }))
      .finally(() => {
        this.scanning = undefined
      })
    return this.scanning
  }

  /** Names this node holds the connection of (tests, leak checks). */
  get size(): number {
    return this.local.size
  }

  /** Stops scanning. Redis is left as it is: the node leaving the cluster takes its users offline (another node's next scan). */
  stop(): void {
    this.stopped = true
    clearInterval(this.timer)
    this.removeBeat()
    this.local.clear()
  }

  private async scanOnce(): Promise<void> {
    // This node's own users whose page went away.
    for (const [name, key] of [...this.local]) {
      if (this.options.connected(key)) continue
      this.local.delete(name)
      await this.publish((await this.run(DISCONNECT, [name, key, this.cluster.id, this.options.graceMs])) as RosterReply[])
    }
    const [pending, changed] = (await this.run(SCAN, [this.options.graceMs])) as [string[], RosterReply[]]
    await this.publish(changed)
    for (let i = 0; i + 2 < pending.length; i += 3) {
      const [name, key, node] = pending.slice(i, i + 3) as [string, string, string]
      if (node !== this.cluster.id && this.options.connected(key)) await this.confirm(name, key)
    }
  }

  private async confirm(name: string, key: string): Promise<void> {
    if (Number(await this.run(CONFIRM, [name, key, this.cluster.id])) === 1) this.local.set(name, key)
  }

  private run(script: string, args: readonly (string | number)[]): Promise<unknown> {
    return this.cluster.link.eval(script, this.keys, [this.prefix, ...args])
  }

  /** Publishes each changed roster once (this node made the change), in one batch. */
  private async publish(changed: readonly RosterReply[]): Promise<void> {
    if (changed.length === 0 || this.stopped) return
    const inputs = changed.map(([room, version, users]) => ({ topic: presenceTopic(room), event: 'presence', data: { room, users: [...users].sort(), version: Number(version) } satisfies VersionedRoster }))
    await this.hub.publish(inputs).catch((error) => this.options.log?.warn('chat roster not published', { error }))
  }
}

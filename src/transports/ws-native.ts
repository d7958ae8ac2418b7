import type { Server } from 'bun'
import type { Delivery } from '../hub/delivery'
import type { HubEvent } from '../hub/event'
import type { Hub } from '../hub/hub'
import type { Subscriber } from '../hub/registry'
import type { Selector } from '../hub/topics'
import { wsEventFrame } from './frames'

/** What the fan-out needs of a member connection. */
export interface NativeMember {
  /** Sends one frame to this socket alone (the fallback when there is no server to publish through). */
  send(text: string): void
  /** After a native publish that answered 0: notes whether this socket is being cut by Bun's backpressure limit. */
  checkCut(): void
  /** Whether this socket's principal may receive this private event (asked only for private events). */
  maySee(event: HubEvent): boolean
}

/** The members of one topic: the member itself while there is one, a Set from the second on. */
type Members<M> = M | Set<M>

/**
 * Bun's native `server.publish` as one registry subscriber: it holds every concrete topic some
 * socket is live on natively, and delivers each event with one call that Bun writes to every
 * socket subscribed to the topic (measured with `bun run bench:fanout`: far cheaper than a send per
 * socket from JS at 1,000 sockets). So the WebSocket transport has one delivery path, the
 * registry, like every other subscriber.
 *
 * It is used only where it is exactly what per-connection sends would do. Its members are the
 * sockets that are live on the topic (a socket still catching up joins only when its replay has
 * been sent, in the same synchronous step as it leaves its catch-up queue), whatever their
 * principal: an event that is not private reaches every accepted subscriber, so one
 * `server.publish` is exact for it. A private event is never published natively: it is sent to
 * each member whose principal may see it, one by one. A member is subscribed natively
 * (`ws.subscribe`) exactly while it is a member; Connection keeps the two in step.
 */
export class NativeFanout<M extends NativeMember> implements Subscriber {
  readonly internal = true
  /** Set when the server starts; undefined before (no socket can be open then) and after it stops. */
  server: Server<unknown> | undefined
  private readonly members = new Map<string, Members<M>>()

  constructor(private readonly hub: Hub) {}

  /** Topics with at least one member. */
  get topics(): number {
    return this.members.size
  }

  /** Adds `member` to `selector`'s topic (a concrete topic); idempotent. The caller subscribes the socket natively. */
  join(member: M, selector: Selector): void {
    const topic = selector.source
    const members = this.members.get(topic)
    if (members === undefined) {
      this.members.set(topic, member)
      this.hub.attach(this, [selector])
    } else if (members instanceof Set) members.add(member)
    else if (members !== member) this.members.set(topic, new Set([members, member]))
  }

  /** Removes `member` from `topic`; the last to leave takes the topic out of the registry. The caller unsubscribes the socket. */
  leave(member: M, topic: string): void {
    const members = this.members.get(topic)
    if (members === undefined) return
    if (members instanceof Set) {
      members.delete(member)
      if (members.size > 1) return
      const [only] = members
      if (only !== undefined) {
        this.members.set(topic, only)
        return
      }
    } else if (members !== member) return
    this.members.delete(topic)
    this.hub.detach(this, [topic])
  }

  receive(delivery: Delivery): void {
    const topic = delivery.event.topic
    const members = this.members.get(topic)
    if (members === undefined) return
    const frame = delivery.encode(wsEventFrame)
    if (delivery.event.private === true) {
      for (const member of members instanceof Set ? members : [members]) if (member.maySee(delivery.event)) member.send(frame)
      return
    }
    if (this.server === undefined) {
      for (const member of members instanceof Set ? members : [members]) member.send(frame)
      return
    }
    // 0 = a subscriber dropped the frame: Bun's backpressure limit is cutting it. Find which (rare).
    if (this.server.publish(topic, frame) === 0) for (const member of members instanceof Set ? members : [members]) member.checkCut()
  }
}

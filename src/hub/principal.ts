import type { HubEvent } from './event'
import type { Selector } from './topics'

/**
 * Who is asking, and what they may do. Every edge (HTTP publish, SSE, WebSocket) builds one per
 * request or connection and hands it to the hub; the hub checks it, transports never decide
 * permissions themselves. Code in the process (the host app's `herald.*`, the demos) uses SERVER.
 *
 * The three questions are asked at different moments: `mayPublish` for every topic of a batch
 * (one refusal refuses the batch), `maySubscribe` for every selector of a subscribe (one refusal
 * refuses the subscribe), and `maySee` for every PRIVATE event that reaches the subscriber, live
 * or replayed. An event that is not private reaches every subscriber whose subscribe was accepted
 * (the subscribe is the permission); a private one only those whose `maySee` says yes, so a
 * subscriber whose wildcard (or public rule) is wider than its rights never gets one it may not
 * see. Asking only for private events keeps ordinary delivery free of per-event calls, and lets
 * every WebSocket share Bun's native fan-out. All three must be cheap, synchronous and must not throw.
 */
export interface Principal {
  /** Who: a token's `sub`; undefined for anonymous. For logs and `{sub}` in claims, never a permission by itself. */
  readonly subject?: string
  /**
   * True when `maySee` answers true for every private event: delivery then skips the call. A
   * principal that sets it must mean it: a wrong `true` leaks private events its `maySee` would
   * have refused.
   */
  readonly seesEverything: boolean
  /** May publish to this concrete topic. */
  mayPublish(topic: string): boolean
  /** May subscribe with this selector (a topic or a pattern); private events it then matches are still filtered by `maySee`. */
  maySubscribe(selector: Selector): boolean
  /** May receive this private event (live or replayed). Never asked for an event that is not private. */
  maySee(event: HubEvent): boolean
}

/**
 * A principal that may do anything a client can: publish and subscribe anywhere, see private
 * events. Edges use it only where nothing restricts clients (tests, custom transports); topics the
 * hub keeps for the server (`serverTopics`) stay closed to it.
 */
export const ALLOW_ALL: Principal = Object.freeze({
  subject: undefined,
  seesEverything: true,
  mayPublish: () => true,
  maySubscribe: () => true,
  maySee: () => true,
})

/**
 * Herald's own code and the host app's (`herald.publish`, `herald.subscribe`, the demos): trusted.
 * It may do everything ALLOW_ALL may, and also publish to the hub's server-owned topics. The hub
 * recognizes it by identity; no edge ever hands it to the hub for a client.
 */
export const SERVER: Principal = Object.freeze({
  subject: undefined,
  seesEverything: true,
  mayPublish: () => true,
  maySubscribe: () => true,
  maySee: () => true,
})

/**
 * The check a subscriber with this principal needs for private events, or undefined when it sees
 * all of them (so the registry makes no call). Registry subscribers carry it as `sees`; it is only
 * ever called with private events.
 */
export function visibilityOf(principal: Principal): ((event: HubEvent) => boolean) | undefined {
  return principal.seesEverything ? undefined : (event) => principal.maySee(event)
}

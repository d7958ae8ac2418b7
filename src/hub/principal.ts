import type { HubEvent } from './event'
import type { Selector } from './topics'

/**
 * Who is asking, and what they may do. Every edge (HTTP publish, SSE, WebSocket, code) builds one
 * per request or connection and hands it to the hub; the hub checks it, transports never decide
 * permissions themselves. Without authentication every edge passes ALLOW_ALL.
 *
 * The three questions are asked at different moments: `mayPublish` for every topic of a batch
 * (one refusal refuses the batch), `maySubscribe` for every selector of a subscribe (one refusal
 * refuses the subscribe), and `maySee` for every event that reaches the subscriber, live or
 * replayed, so a subscriber whose wildcard is wider than its rights gets only what it may see.
 * All three must be cheap, synchronous and must not throw.
 */
export interface Principal {
  /** Who: a token's `sub`; undefined for anonymous. For logs and `{sub}` in claims, never a permission by itself. */
  readonly subject?: string
  /**
   * True when `maySee` answers true for every event: delivery then skips the per-event call (the
   * fast path), and a WebSocket may share Bun's native fan-out with other sockets. A principal that
   * sets it must mean it: a wrong `true` leaks events its `maySee` would have refused.
   */
  readonly seesEverything: boolean
  /** May publish to this concrete topic. */
  mayPublish(topic: string): boolean
  /** May subscribe with this selector (a topic or a pattern); what it then receives is still filtered by `maySee`. */
  maySubscribe(selector: Selector): boolean
  /** May receive this event (live or replayed). */
  maySee(event: HubEvent): boolean
}

/** The principal of every request while Herald has no authentication: anyone may do anything. */
export const ALLOW_ALL: Principal = Object.freeze({
  subject: undefined,
  seesEverything: true,
  mayPublish: () => true,
  maySubscribe: () => true,
  maySee: () => true,
})

/**
 * The per-event check a subscriber with this principal needs, or undefined when it sees
 * everything (so the registry makes no call per event). Registry subscribers carry it as `sees`.
 */
export function visibilityOf(principal: Principal): ((event: HubEvent) => boolean) | undefined {
  return principal.seesEverything ? undefined : (event) => principal.maySee(event)
}

/**
 * How an edge finds the principal of a request (a transport or API option). The token work will
 * verify a JWT here; until then it is `() => ALLOW_ALL`. It may be async (verification may be) and
 * may throw a HubError to refuse the request before anything starts.
 */
export type PrincipalOf = (request: Request) => Principal | Promise<Principal>

/** The default PrincipalOf: everyone is ALLOW_ALL. */
export const allowAll: PrincipalOf = () => ALLOW_ALL

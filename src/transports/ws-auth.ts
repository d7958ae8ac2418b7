/**
 * A WebSocket's authentication over its life, when a key is configured: the principal of the
 * token it connected with (or anonymous), an `auth` message that authenticates or refreshes it,
 * the deadline for a socket that connected without a token, and the close at the token's expiry.
 */
import type { AuthPrincipal } from '../auth/types'
import type { EdgeAuth } from '../api/edge-auth'
import { HubError } from '../hub/errors'
import { atTime } from './expiry'
import type { Connection } from './ws-connection'

/**
 * Close code of a socket whose token expired without a refresh (an `error` with code
 * `token_expired` comes first): reconnect with a fresh token, and `lastEventId` to lose nothing.
 */
export const TOKEN_EXPIRED_CLOSE = 4401

/**
 * Close code of a socket that connected without a token, sent no `auth` message within
 * `--ws-auth-timeout` and holds no (public) subscription (an `error` with code `missing_token`
 * comes first).
 */
export const AUTH_TIMEOUT_CLOSE = 4408

/** What the socket's owner does when its authentication ends it: send `error`, then close with `code`. */
export type EndSocket = (error: HubError, code: number, reason: string) => void

/**
 * One socket's authentication state (only with a key configured). The connection's principal is
 * swapped here, and only here; the hub and the fan-out read it at each check, so a refresh
 * applies to the next event.
 */
export class SocketAuth {
  private current: AuthPrincipal
  private cancelExpiry: (() => void) | undefined
  private cancelDeadline: (() => void) | undefined
  /** Settles once every `auth` message received so far has been applied or refused: later messages wait for it. */
  pending: Promise<void> | undefined
  private stopped = false

  /**
   * @param timeoutMs how long a socket without a token may stay without sending `auth` (0 = no deadline)
   */
  constructor(
    private readonly connection: Connection,
    private readonly edge: EdgeAuth,
    principal: AuthPrincipal,
    private readonly timeoutMs: number,
    private readonly end: EndSocket,
  ) {
    this.current = principal
    this.armExpiry()
    if (principal.anonymous && timeoutMs > 0) this.cancelDeadline = atTime(Date.now() + timeoutMs, () => this.deadline())
  }

  /** The socket's principal now. */
  get principal(): AuthPrincipal {
    return this.current
  }

  /**
   * Verifies `token` and makes it the socket's principal. Refused (the socket keeps its principal)
   * when the token is bad or expired, when it names another `sub` than the one the socket is
   * authenticated as (a refresh is for the same user: connect again to change users), or when it
   * does not cover a selector the socket holds (unsubscribe first). Messages after it wait.
   */
  authenticate(token: unknown): Promise<AuthPrincipal> {
    const result = (this.pending ?? Promise.resolve()).then(() => this.apply(token))
    const settled = result.then(
      () => {},
      () => {},
    )
    this.pending = settled
    void settled.then(() => {
      if (this.pending === settled) this.pending = undefined
    })
    return result
  }

  /** Stops the timers (the socket closed); idempotent. */
  stop(): void {
    this.stopped = true
    this.cancelExpiry?.()
    this.cancelDeadline?.()
    this.cancelExpiry = this.cancelDeadline = undefined
  }

  private async apply(token: unknown): Promise<AuthPrincipal> {
    if (typeof token !== 'string' || token === '') throw new HubError('invalid_token', '"token" must be a non-empty string')
    const next = await this.edge.verify(token)
    if (this.stopped) throw new HubError('invalid_token', 'the connection closed')
    const before = this.current
    if (!before.anonymous && next.subject !== before.subject) {
      throw new HubError('invalid_token', `this connection is authenticated as ${JSON.stringify(before.subject ?? '')}: a refresh must carry the same "sub"; connect again to change users`)
    }
    for (const selector of this.connection.selectors()) {
      if (!next.maySubscribe(selector)) {
        throw new HubError('forbidden_topic', `the new token does not cover ${JSON.stringify(selector.source)}, which this connection is subscribed to; unsubscribe first`)
      }
    }
    this.current = next
    this.connection.principal = next
    this.cancelDeadline?.()
    this.cancelDeadline = undefined
    this.cancelExpiry?.()
    this.armExpiry()
    return next
  }

  private armExpiry(): void {
    const at = this.current.expiresAt
    this.cancelExpiry = at === undefined ? undefined : atTime(at, () => this.expired())
  }

  private expired(): void {
    this.cancelExpiry = undefined
    if (this.stopped) return
    this.end(new HubError('token_expired', 'your token expired: connect again with a fresh token (and lastEventId to lose nothing), or refresh it with an auth message before it expires'), TOKEN_EXPIRED_CLOSE, 'token expired')
  }

  private deadline(): void {
    this.cancelDeadline = undefined
    // An auth message in flight decides: look again once it is applied or refused.
    if (this.pending) {
      void this.pending.then(() => this.deadline())
      return
    }
    // Still anonymous but reading public topics: a legitimate anonymous reader.
    if (this.stopped || !this.current.anonymous || this.connection.holding > 0) return
    this.end(
      new HubError('missing_token', `no token within ${this.timeoutMs} ms: connect with a token, or send an auth message first ({"type": "auth", "token": …}; --ws-auth-timeout)`),
      AUTH_TIMEOUT_CLOSE,
      'authentication timeout',
    )
  }
}

/**
 * The contract between token verification (src/auth/*) and the edges that use it (the plugin's
 * routes, SSE, WebSocket). Verification knows nothing of transports; transports never decide
 * permissions: they find the token, ask the Authenticator for a principal, and hand it to the hub.
 */
import type { Principal } from '../hub/principal'

/** A principal built from a verified token (or the anonymous one), with when it stops being valid. */
export interface AuthPrincipal extends Principal {
  /** When the token expires, milliseconds since the epoch; undefined = never (anonymous, or a token without `exp`). */
  readonly expiresAt: number | undefined
  /** True for the principal of a request that carried no token. */
  readonly anonymous: boolean
}

/** Where a request's token came from (for logs and for the origin check on cookies). */
export type TokenCarrier = 'header' | 'cookie' | 'query' | 'message'

/** A token found on a request, and where. */
export interface FoundToken {
  token: string
  carrier: TokenCarrier
}

/**
 * Turns tokens into principals. One per Herald, built from the `--jwt-*` / `--public` options.
 *
 * - `enabled` false (no key configured): everyone may subscribe to anything; publishing is decided
 *   by the edge (loopback only, unless the server runs in dev mode).
 * - `enabled` true: `verify` checks signature, algorithm (pinned by the key type), `exp`/`nbf` (with
 *   the documented clock tolerance), `iss`/`aud` when configured, and builds the principal from the
 *   `herald: { publish, subscribe }` claim with `{sub}` expanded (escaped). `anonymous()` is the
 *   principal of a request without a token: it may subscribe only within `--public` selectors, may
 *   publish nothing, and never sees a private event.
 */
export interface Authenticator {
  readonly enabled: boolean
  /**
   * Only with `enabled` false: true when `verify` still accepts some tokens (the standalone
   * server's demo signer, whose secret only that process knows). The edges then give a request that
   * carries a token that token's principal, as with a key, and keep the no-key rules for requests
   * without one. Absent or false: with no key configured the edges never read a token.
   */
  readonly verifiesWithoutKey?: boolean
  /** Throws HubError `invalid_token` (malformed, bad signature, wrong alg/iss/aud, bad claims) or `token_expired` (also for `nbf` in the future). */
  verify(token: string): Promise<AuthPrincipal>
  anonymous(): AuthPrincipal
}

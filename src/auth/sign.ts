import { SignJWT } from 'jose'
import { ConfigError } from '../config'
import { parseHeraldClaim, subjectOf } from './claims'
import { type HsAlgorithm, secretBytes } from './keys'

/** What `signToken` puts in a token. */
export interface TokenRequest {
  /** The HMAC secret the server verifies with (`--jwt-secret`): at least 32 bytes. */
  secret: string | Uint8Array
  /** The token's `sub`: who it is for, and what `{sub}` in the selectors becomes (escaped). */
  sub?: string | undefined
  /** Selectors it may publish to (`herald.publish`); may use `{sub}`. */
  publish?: readonly string[] | undefined
  /** Selectors it may subscribe within, and see private events on (`herald.subscribe`); may use `{sub}`. */
  subscribe?: readonly string[] | undefined
  /** Lifetime in milliseconds (rounded up to whole seconds): `exp` = now + ttl. Must be more than 0. */
  ttlMs: number
  /** `iss`, when the server checks one (`--jwt-issuer`). */
  issuer?: string | undefined
  /** `aud`, when the server checks one (`--jwt-audience`). */
  audience?: string | undefined
  /** HS256 (default), HS384 or HS512. */
  alg?: HsAlgorithm | undefined
  /** The signing time, milliseconds since the epoch (tests); default now. */
  now?: number | undefined
}

/**
 * A signed JWT (compact form) for `request`: `{ sub, iat, exp, iss?, aud?, herald: { publish?,
 * subscribe? } }`, the claim lists as given (with `{sub}` unexpanded: the server expands it).
 * For scripts (`herald token`) and for servers that mint short-lived tokens themselves (the demos).
 * Never mints a token Herald would refuse for its shape: throws ConfigError for a secret shorter
 * than 32 bytes or a ttl that is not positive, and HubError `invalid_token` for a selector that is
 * not valid, or `{sub}` without a `sub` (the message says which).
 */
export async function signToken(request: TokenRequest): Promise<string> {
  const key = secretBytes(request.secret)
  if (!Number.isFinite(request.ttlMs) || request.ttlMs <= 0) throw new ConfigError(`the token's lifetime must be more than 0, got ${request.ttlMs} ms`)
  const herald: { publish?: string[]; subscribe?: string[] } = {}
  if (request.publish !== undefined) herald.publish = [...request.publish]
  if (request.subscribe !== undefined) herald.subscribe = [...request.subscribe]
  const claims: Record<string, unknown> = { herald }
  if (request.sub !== undefined) claims.sub = request.sub
  // The server's own reading of the claims: a token it would refuse is not made.
  parseHeraldClaim(herald, subjectOf(claims), Number.MAX_SAFE_INTEGER)
  const now = Math.floor((request.now ?? Date.now()) / 1000)
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: request.alg ?? 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + Math.ceil(request.ttlMs / 1000))
  if (request.issuer) jwt.setIssuer(request.issuer)
  if (request.audience) jwt.setAudience(request.audience)
  return await jwt.sign(key)
}

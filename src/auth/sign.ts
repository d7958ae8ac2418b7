import { createHmac } from 'node:crypto'
import { ConfigError } from '../config'
import { parseHeraldClaim } from './claims'
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

/** HS256 → sha256, …: the HMAC hash of each algorithm. */
const HASHES: Record<HsAlgorithm, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url')
}

/**
 * A signed JWT (compact form) for `request`: `{ sub, iat, exp, iss?, aud?, herald: { publish?,
 * subscribe? } }`, the claim lists as given (with `{sub}` unexpanded: the server expands it).
 * For scripts (`herald token`) and for servers that mint short-lived tokens themselves (the demos).
 * Synchronous (node:crypto's HMAC; jose verifies what it makes, as the tests check), so the
 * compiled binary's CommonJS entry needs no top-level await.
 *
 * Never mints a token Herald would refuse for its shape: throws ConfigError for a secret shorter
 * than 32 bytes or a ttl that is not positive, and HubError `invalid_token` for a selector that is
 * not valid, or `{sub}` without a `sub` (the message says which).
 */
export function signToken(request: TokenRequest): string {
  const key = secretBytes(request.secret)
  if (!Number.isFinite(request.ttlMs) || request.ttlMs <= 0) throw new ConfigError(`the token's lifetime must be more than 0, got ${request.ttlMs} ms`)
  const alg = request.alg ?? 'HS256'
  const hash = HASHES[alg]
  if (!hash) throw new ConfigError(`the algorithm must be HS256, HS384 or HS512, got ${JSON.stringify(alg)}`)
  const herald: { publish?: string[]; subscribe?: string[] } = {}
  if (request.publish !== undefined) herald.publish = [...request.publish]
  if (request.subscribe !== undefined) herald.subscribe = [...request.subscribe]
  // The server's own reading of the claims: a token it would refuse is not made.
  parseHeraldClaim(herald, request.sub, Number.MAX_SAFE_INTEGER)
  const now = Math.floor((request.now ?? Date.now()) / 1000)
  const claims: Record<string, unknown> = {}
  if (request.sub !== undefined) claims.sub = request.sub
  if (request.issuer) claims.iss = request.issuer
  if (request.audience) claims.aud = request.audience
  claims.iat = now
  claims.exp = now + Math.ceil(request.ttlMs / 1000)
  claims.herald = herald
  const input = `${base64url(JSON.stringify({ alg, typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`
}

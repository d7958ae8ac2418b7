/**
 * How the standalone server authenticates, demos included. The demos need tokens (a chat line's
 * `from` is its token's `sub`; a direct message is private to its reader's token) and must work
 * out of the box whether or not a key is configured, so the server always builds its own
 * Authenticator, and a demo signer when demo tokens are on:
 *
 * | | demo tokens | signed with | a request without a token |
 * | --- | --- | --- | --- |
 * | no key (default) | always on | a secret generated at start, known to this process only | the no-key rules (open subscribe, loopback publish) |
 * | `--jwt-secret` + `--demo-tokens` | on | the configured secret (with `--jwt-issuer` / `--jwt-audience`) | `--public` only |
 * | `--jwt-key` only + `--demo-tokens` | on | a secret generated at start (HS tokens; the key keeps the others) | `--public` only |
 * | a key, no `--demo-tokens` | off | | `--public` only |
 *
 * On a cluster (`--redis`), "a secret generated at start" is instead one secret every node shares,
 * kept in Redis (see shared-secret.ts), so a token one node minted verifies on every other.
 *
 * Without a key the generated secret is the only thing a token can be checked with, so the only
 * tokens there can be are the ones this server minted (the demos' own claims): the Authenticator
 * `verifiesWithoutKey`, and a request with one gets its principal (src/api/edge-auth.ts).
 */
import { createAuthenticator } from '../auth/authenticator'
import { signToken } from '../auth/sign'
import type { Authenticator } from '../auth/types'
import type { HeraldOptions } from '../config'

/** What a demo token says: who, and what it may subscribe to and publish (selectors; `{sub}` allowed). */
export interface DemoClaims {
  sub: string
  subscribe: readonly string[]
  publish?: readonly string[] | undefined
}

/** A minted demo token, and when it expires (milliseconds since the epoch: its `exp`). */
export interface DemoToken {
  token: string
  expiresAt: number
}

/** Mints demo tokens. */
export interface DemoSigner {
  /** A token with these claims, expiring `ttlMs` from now (whole seconds, rounded up). Call `ready` first when there is one. */
  sign(claims: DemoClaims, ttlMs: number): DemoToken
  /** On a cluster: resolves once the secret the nodes share is known (rejects `store_unavailable` while Redis is unreachable). */
  ready?(): Promise<void>
}

/**
 * On a cluster (`--redis`), where the generated demo secret comes from instead: one secret shared
 * by every node (kept in Redis), so a token one node minted verifies on every other.
 */
export interface SharedSecret {
  /** The secret (loaded once; rejects `store_unavailable` while Redis is unreachable). */
  secret(): Promise<string>
  /** The secret if it is loaded already. */
  readonly current: string | undefined
}

/** The server's authentication: what herald() verifies with, and the demo signer (undefined: demo tokens are off). */
export interface ServerAuth {
  auth: Authenticator
  demo: DemoSigner | undefined
}

/** The options server authentication reads. */
export type ServerAuthOptions = Pick<HeraldOptions, 'jwtSecret' | 'jwtKey' | 'jwtIssuer' | 'jwtAudience' | 'jwtClockToleranceMs' | 'jwtMaxSelectors' | 'public' | 'demoTokens'>

/** A random HMAC secret (32 bytes, as base64url text: 43 bytes, over the 32-byte minimum). */
function generatedSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
}

function signer(secret: string, options: ServerAuthOptions): DemoSigner {
  return {
    sign(claims, ttlMs) {
      const now = Date.now()
      const token = signToken({ secret, sub: claims.sub, subscribe: claims.subscribe, publish: claims.publish ?? [], ttlMs, issuer: options.jwtIssuer, audience: options.jwtAudience, now })
      // signToken's own arithmetic: exp = iat + ttl, both in whole seconds.
      return { token, expiresAt: (Math.floor(now / 1000) + Math.ceil(ttlMs / 1000)) * 1000 }
    },
  }
}

/** The signer of a cluster's shared secret: `sign` needs `ready` to have resolved. */
function sharedSigner(shared: SharedSecret, options: ServerAuthOptions): DemoSigner {
  return {
    ready: () => shared.secret().then(() => undefined),
    sign(claims, ttlMs) {
      const secret = shared.current
      if (secret === undefined) throw new Error('sign() before ready(): the shared demo secret is not loaded')
      return signer(secret, options).sign(claims, ttlMs)
    },
  }
}

/** `base` (its anonymous principal and mode), verifying tokens with what `build` makes of the shared secret once it is loaded. */
function sharedAuth(base: Authenticator, shared: SharedSecret, build: (secret: string) => Authenticator): Authenticator {
  let cached: { secret: string; auth: Authenticator } | undefined
  return {
    enabled: base.enabled,
    ...(base.verifiesWithoutKey !== undefined && { verifiesWithoutKey: base.verifiesWithoutKey }),
    anonymous: () => base.anonymous(),
    async verify(token) {
      const secret = await shared.secret()
      if (cached?.secret !== secret) cached = { secret, auth: build(secret) }
      return cached.auth.verify(token)
    },
  }
}

/**
 * The server's Authenticator and demo signer (see the module comment). `publicTopics` are the
 * demos' own public topics, added to `--public` when a key is configured (without one everyone
 * may subscribe to everything anyway). `shared` (a cluster) replaces the secret this process would
 * generate by the one every node shares. Throws ConfigError as createAuthenticator does.
 */
export function serverAuth(options: ServerAuthOptions, publicTopics: readonly string[] = [], shared?: SharedSecret): ServerAuth {
  const keyed = options.jwtSecret !== '' || options.jwtKey !== ''
  if (!keyed && shared) {
    const open = createAuthenticator(options)
    const base: Authenticator = { enabled: false, verifiesWithoutKey: true, verify: (token) => open.verify(token), anonymous: () => open.anonymous() }
    return { auth: sharedAuth(base, shared, (secret) => createAuthenticator({ ...options, jwtSecret: secret })), demo: sharedSigner(shared, options) }
  }
  if (!keyed) {
    const secret = generatedSecret()
    // The no-key rules for requests without a token; the generated secret for those with one.
    const open = createAuthenticator(options)
    const demo = createAuthenticator({ ...options, jwtSecret: secret })
    return { auth: { enabled: false, verifiesWithoutKey: true, verify: (token) => demo.verify(token), anonymous: () => open.anonymous() }, demo: signer(secret, options) }
  }
  const settings = { ...options, public: [...options.public, ...publicTopics.filter((topic) => !options.public.includes(topic))] }
  if (!options.demoTokens) return { auth: createAuthenticator(settings), demo: undefined }
  if (options.jwtSecret === '' && shared) {
    return { auth: sharedAuth(createAuthenticator(settings), shared, (secret) => createAuthenticator({ ...settings, jwtSecret: secret })), demo: sharedSigner(shared, options) }
  }
  // With only a public key, HS tokens are checked with a secret of our own (the key keeps the others).
  const secret = options.jwtSecret || generatedSecret()
  return { auth: createAuthenticator({ ...settings, jwtSecret: secret }), demo: signer(secret, options) }
}

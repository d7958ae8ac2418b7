/**
 * A FAKE Authenticator for the edge tests (the real one, with jose, lives in src/auth/): a token
 * is `fake.` + the base64url of the JSON of its claims (the characters a real token has, so the
 * carriers take it), and a test writes the principal it wants in the token itself.
 * Its principals follow the contract in src/auth/types.ts: publish where a `publish` claim matches,
 * subscribe where a `subscribe` claim or a public selector covers the selector, see a private event
 * only where a `subscribe` claim (never a public one) matches its topic; `{sub}` is the subject.
 */
import type { AuthPrincipal, Authenticator } from '../../src/auth/types'
import { HubError } from '../../src/hub/errors'
import { parseSelector, type Selector } from '../../src/hub/topics'

export interface FakeClaims {
  sub: string
  publish?: string[]
  subscribe?: string[]
  /** Expiry, milliseconds since the epoch. */
  exp?: number
}

/** A token the fake authenticator accepts. */
export function fakeToken(claims: FakeClaims): string {
  return `fake.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
}

/** True when every topic `selector` can match is matched by `claim` (both parsed selectors). */
export function covers(claim: Selector, selector: Selector): boolean {
  const c = claim.source.split('/')
  const s = selector.source.split('/')
  for (let i = 0; i < c.length; i++) {
    const part = c[i] as string
    if (part === '**') return i < s.length
    if (i >= s.length) return false
    const wanted = s[i] as string
    if (wanted === '**') return false
    if (part === '*') continue
    if (part !== wanted) return false
  }
  return c.length === s.length
}

function principal(claims: FakeClaims | undefined, publics: readonly Selector[]): AuthPrincipal {
  const expand = (list: readonly string[] | undefined) => (list ?? []).map((text) => parseSelector(text.replaceAll('{sub}', claims?.sub ?? '')))
  const publish = expand(claims?.publish)
  const subscribe = expand(claims?.subscribe)
  return {
    subject: claims?.sub,
    seesEverything: false,
    expiresAt: claims?.exp,
    anonymous: claims === undefined,
    mayPublish: (topic) => publish.some((claim) => claim.matches(topic)),
    maySubscribe: (selector) => subscribe.some((claim) => covers(claim, selector)) || publics.some((claim) => covers(claim, selector)),
    maySee: (event) => subscribe.some((claim) => claim.matches(event.topic)),
  }
}

export interface FakeAuthenticator extends Authenticator {
  /** Tokens verified so far (verification must be per connection or publish, never per delivery). */
  verified: number
}

/** The fake: `fake.<base64url json>` tokens; anything else is `invalid_token`, a past `exp` is `token_expired`. */
export function fakeAuthenticator(options: { public?: string[]; now?: () => number } = {}): FakeAuthenticator {
  const publics = (options.public ?? []).map(parseSelector)
  const now = options.now ?? Date.now
  const anonymous = principal(undefined, publics)
  const auth: FakeAuthenticator = {
    enabled: true,
    verified: 0,
    async verify(token) {
      auth.verified++
      if (!token.startsWith('fake.')) throw new HubError('invalid_token', 'not a fake token')
      let claims: FakeClaims
      try {
        claims = JSON.parse(Buffer.from(token.slice(5), 'base64url').toString()) as FakeClaims
      } catch {
        throw new HubError('invalid_token', 'malformed fake token')
      }
      if (typeof claims?.sub !== 'string') throw new HubError('invalid_token', 'no sub')
      if (claims.exp !== undefined && claims.exp <= now()) throw new HubError('token_expired', 'the fake token expired')
      return principal(claims, publics)
    },
    anonymous: () => anonymous,
  }
  return auth
}

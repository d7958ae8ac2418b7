/**
 * Generated hostile tokens. Families: character flips, insertions and deletions anywhere in valid
 * tokens; header swaps (alg none, other families, the public key as an HMAC secret); claims
 * widened under the original signature; randomly shaped claims signed with the real secret; and
 * random carrier headers. Every verify ends in a HubError `invalid_token` / `token_expired` (never
 * another error), or a principal with no more rights than the token it came from.
 */
import { describe, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { findToken } from '../../src/auth/carriers'
import type { AuthPrincipal, Authenticator } from '../../src/auth/types'
import { HubError } from '../../src/hub/errors'
import type { HubEvent } from '../../src/hub/event'
import { selectorContains } from '../../src/hub/containment'
import { escapeSegment } from '../../src/hub/escape'
import { parseSelector } from '../../src/hub/topics'
import { authenticator, keyPair, NOW_S, SECRET, sign } from '../auth/fixtures'
import { Rng, SEED } from './prng'

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** What the probes ask: topics to publish and see privately, selectors to subscribe with. */
const PROBE_TOPICS = ['users/ada/inbox', 'users/bob/inbox', 'users/ada', 'chat/a', 'chat/a/b', 'news/x', 'admin', 'users/~2A/inbox', 'users/*/inbox'.replace('*', 'x')]
const PROBE_SELECTORS = ['users/ada/inbox', 'users/ada/**', 'users/*/inbox', 'users/**', '**', '*', 'chat/*', 'chat/**', 'news/**', 'admin', 'users/bob/**']

function privateEvent(topic: string): HubEvent {
  return { id: '1-0', position: { ms: 1, seq: 0 }, topic, data: '', json: false, time: 0, private: true } as HubEvent
}

/** Throws unless `wider` grants nothing `original` does not. */
function expectNoWider(wider: AuthPrincipal, original: AuthPrincipal, context: string): void {
  const extra: string[] = []
  for (const topic of PROBE_TOPICS) {
    if (wider.mayPublish(topic) && !original.mayPublish(topic)) extra.push(`publish ${topic}`)
    if (wider.maySee(privateEvent(topic)) && !original.maySee(privateEvent(topic))) extra.push(`see ${topic}`)
  }
  for (const source of PROBE_SELECTORS) {
    const selector = parseSelector(source)
    if (wider.maySubscribe(selector) && !original.maySubscribe(selector)) extra.push(`subscribe ${source}`)
  }
  if (wider.seesEverything && !original.seesEverything) extra.push('seesEverything')
  if ((wider.expiresAt ?? Infinity) > (original.expiresAt ?? Infinity)) extra.push('later expiry')
  if (extra.length > 0) throw new Error(`${context}: more rights than the original: ${extra.join(', ')}`)
}

/** verify → the principal, or undefined when refused with invalid_token/token_expired; any other outcome fails. */
async function outcome(auth: Authenticator, token: string): Promise<AuthPrincipal | undefined> {
  try {
    return await auth.verify(token)
  } catch (error) {
    if (error instanceof HubError && (error.code === 'invalid_token' || error.code === 'token_expired')) {
      const signature = token.split('.')[2] ?? ''
      if (signature.length >= 16) expect(error.message).not.toContain(signature)
      return undefined
    }
    throw new Error(`verify(${JSON.stringify(token.slice(0, 120))}) threw ${String(error)}`)
  }
}

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
}

function mutateCharacters(rng: Rng, token: string): string {
  const chars = [...token]
  const edits = rng.int(1, 3)
  for (let i = 0; i < edits; i++) {
    const at = rng.int(0, Math.max(0, chars.length - 1))
    switch (rng.int(0, 4)) {
      case 0:
        chars[at] = rng.pick([...B64URL])
        break
      case 1:
        chars.splice(at, 1)
        break
      case 2:
        chars.splice(at, 0, rng.pick([...B64URL, '.', '=', '+', '/', ' ', '\0', 'é']))
        break
      case 3:
        chars[at] = '.'
        break
      default: {
        // Flip one bit of one character's code.
        const code = (chars[at] ?? 'A').charCodeAt(0) ^ (1 << rng.int(0, 6))
        chars[at] = String.fromCharCode(code)
      }
    }
  }
  return chars.join('')
}

const ALGS = ['none', 'None', 'NONE', '', 'HS256', 'HS384', 'HS512', 'RS256', 'PS256', 'ES256', 'ES512', 'EdDSA', 'Ed25519', 'hs256', 'HS256\u0000', 'A256GCM', 'dir']

describe('mutations of valid HS256 tokens', () => {
  const auth = authenticator({ jwtSecret: SECRET, public: ['news/**'] }, { now: NOW_S * 1000 })
  const CLAIMS = [
    { sub: 'ada', herald: { subscribe: ['users/{sub}/**'], publish: ['chat/*'] } },
    { sub: 'bob', herald: { subscribe: ['users/{sub}/inbox'] } },
    { sub: 'a/b', herald: { publish: ['users/{sub}/x'] } },
    { herald: { subscribe: ['news/**'] } },
  ]

  test('character edits: refused, or (an equivalent base64 spelling) the same rights', async () => {
    const rng = new Rng(SEED)
    let accepted = 0
    for (const claims of CLAIMS) {
      const token = await sign(claims)
      const original = (await outcome(auth, token)) as AuthPrincipal
      expect(original).toBeDefined()
      for (let i = 0; i < 600; i++) {
        const mutated = mutateCharacters(rng, token)
        const principal = await outcome(auth, mutated)
        if (principal) {
          accepted++
          expectNoWider(principal, original, mutated)
        }
      }
    }
    // Some trailing-bit spellings verify; most edits must not.
    expect(accepted).toBeLessThan(200)
  })

  test('header swaps: any other alg, typ, kid or crit on the original payload and signature is refused', async () => {
    const rng = new Rng(SEED + 1)
    const pem = (await keyPair('RS256')).pem
    for (const claims of CLAIMS) {
      const token = await sign(claims)
      const [, payload, signature] = token.split('.') as [string, string, string]
      for (let i = 0; i < 150; i++) {
        const alg = rng.pick(ALGS)
        const header: Record<string, unknown> = { alg }
        if (rng.chance(0.3)) header.typ = rng.pick(['JWT', 'at+jwt', 'x', 1])
        if (rng.chance(0.3)) header.kid = rng.pick(['', 'k', '../../etc/passwd', 0])
        if (rng.chance(0.2)) header.crit = rng.pick([['exp'], ['b64'], [], 'x'])
        if (rng.chance(0.2)) header.b64 = false
        const encoded = b64(header)
        const candidates = [
          `${encoded}.${payload}.${signature}`,
          `${encoded}.${payload}.`,
          // Re-signed with the HMAC of a public key PEM, or of nothing.
          `${encoded}.${payload}.${createHmac('sha256', pem).update(`${encoded}.${payload}`).digest('base64url')}`,
          `${encoded}.${payload}.${createHmac('sha256', '').update(`${encoded}.${payload}`).digest('base64url')}`,
        ]
        for (const candidate of candidates) {
          // The swap drew the original header back: that is the original token.
          if (candidate === token) continue
          expect(await outcome(auth, candidate)).toBeUndefined()
        }
      }
    }
  })

  test('claims widened under the original signature are refused', async () => {
    const rng = new Rng(SEED + 2)
    const widen = [
      (claims: Record<string, unknown>) => ({ ...claims, herald: { subscribe: ['**'], publish: ['**'] } }),
      (claims: Record<string, unknown>) => ({ ...claims, sub: rng.pick(['bob', '*', '**', 'ada/..', '']) }),
      (claims: Record<string, unknown>) => ({ ...claims, exp: NOW_S + 10 ** rng.int(4, 9) }),
      (claims: Record<string, unknown>) => {
        const { exp: _exp, ...rest } = claims
        return rest
      },
      (claims: Record<string, unknown>) => ({ ...claims, herald: { ...(claims.herald as object), subscribe: ['users/*/inbox'] } }),
    ]
    for (const claims of CLAIMS) {
      const token = await sign(claims)
      const [header, original, signature] = token.split('.') as [string, string, string]
      const full = { iat: NOW_S, exp: NOW_S + 3600, ...claims }
      let changed = 0
      for (let i = 0; i < 100; i++) {
        const payload = b64(rng.pick(widen)(full))
        if (payload === original) continue // the draw changed nothing
        changed++
        expect(await outcome(auth, `${header}.${payload}.${signature}`)).toBeUndefined()
      }
      expect(changed).toBeGreaterThan(50)
    }
  })

  test('randomly shaped claims, signed with the real secret: refused, or exactly the rights they list', async () => {
    const rng = new Rng(SEED + 3)
    const selectorPieces = ['users', '{sub}', '*', '**', 'chat', 'a', '', '{user}', 'x y', '..', '~2F']
    const anyValue = (depth: number): unknown => {
      switch (rng.int(0, depth > 2 ? 4 : 6)) {
        case 0:
          return rng.int(-5, 5)
        case 1:
          return rng.pick([null, true, false])
        case 2:
          return rng.string(rng.int(0, 6), 'ab/*{}')
        case 3:
          return Array.from({ length: rng.int(0, 3) }, () => Array.from({ length: rng.int(1, 4) }, () => rng.pick(selectorPieces)).join('/'))
        case 4:
          return undefined
        case 5:
          return Array.from({ length: rng.int(0, 3) }, () => anyValue(depth + 1))
        default:
          return Object.fromEntries(Array.from({ length: rng.int(0, 3) }, () => [rng.pick(['publish', 'subscribe', 'admin', '__proto__', 'Publish']), anyValue(depth + 1)]))
      }
    }
    let accepted = 0
    for (let i = 0; i < 1500; i++) {
      const claims: Record<string, unknown> = { iat: NOW_S, exp: NOW_S + rng.int(-100, 100), herald: anyValue(0) }
      if (rng.chance(0.8)) claims.sub = rng.pick(['ada', 'a/b', '*', '', '..', 'é', 42, null])
      const input = `${b64({ alg: 'HS256' })}.${b64(claims)}`
      const principal = await outcome(auth, `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`)
      if (!principal) continue
      accepted++
      // An accepted claim lists only strings; every right the principal has comes from one of them.
      const herald = (claims.herald ?? {}) as { publish?: string[]; subscribe?: string[] }
      const listed = (list: string[] | undefined) => (list ?? []).map((source) => parseSelector(source.includes('{sub}') ? source.split('{sub}').join(escapeSegment(claims.sub as string)) : source))
      const publish = listed(herald.publish)
      const subscribe = listed(herald.subscribe)
      for (const topic of PROBE_TOPICS) {
        if (principal.mayPublish(topic)) expect(publish.some((selector) => selector.matches(topic))).toBe(true)
        if (principal.maySee(privateEvent(topic))) expect(subscribe.some((selector) => selector.matches(topic))).toBe(true)
      }
      for (const source of PROBE_SELECTORS) {
        if (principal.maySubscribe(parseSelector(source))) expect([...subscribe, parseSelector('news/**')].some((rule) => selectorContains(rule.source, source))).toBe(true)
      }
      if (principal.seesEverything) expect((herald.subscribe ?? []).includes('**')).toBe(true)
    }
    expect(accepted).toBeGreaterThan(20)
  })
})

describe('generated subjects in {sub}', () => {
  test('each sub gets its own users/<sub>/** and never another\'s, nor a wildcard over users', async () => {
    const auth = authenticator({ jwtSecret: SECRET }, { now: NOW_S * 1000 })
    const rng = new Rng(SEED + 6)
    const pieces = ['a', 'b', '/', '*', '**', '.', '..', '%2F', '%', '~', '~2A', '~2F', ' ', 'é', '{sub}', '?', '#', '\n', '\u0000', '😀']
    const subs = Array.from({ length: 400 }, () => Array.from({ length: rng.int(1, 5) }, () => rng.pick(pieces)).join(''))
    for (const [index, sub] of subs.entries()) {
      const input = `${b64({ alg: 'HS256' })}.${b64({ sub, exp: NOW_S + 60, herald: { subscribe: ['users/{sub}/**'], publish: ['users/{sub}/out'] } })}`
      const principal = await outcome(auth, `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`)
      expect(principal).toBeDefined()
      const p = principal as AuthPrincipal
      const own = escapeSegment(sub)
      expect(p.maySubscribe(parseSelector(`users/${own}/x`))).toBe(true)
      expect(p.mayPublish(`users/${own}/out`)).toBe(true)
      for (const wide of ['users/*/x', 'users/*/**', 'users/**', '**', 'users/a/x', 'users/b/x']) expect(p.maySubscribe(parseSelector(wide))).toBe(wide === `users/${own}/x`)
      const other = subs[(index + 1) % subs.length] as string
      if (other !== sub) {
        expect(p.maySubscribe(parseSelector(`users/${escapeSegment(other)}/x`))).toBe(false)
        expect(p.mayPublish(`users/${escapeSegment(other)}/out`)).toBe(false)
        expect(p.maySee(privateEvent(`users/${escapeSegment(other)}/x`))).toBe(false)
      }
    }
  })
})

describe('mutations of valid ES256 tokens', () => {
  test('character edits and header swaps: refused, or the same rights', async () => {
    const pair = await keyPair('ES256')
    const auth = authenticator({ jwtKey: pair.pem }, { now: NOW_S * 1000 })
    const token = await sign({ sub: 'ada', herald: { subscribe: ['users/{sub}/**'] } }, pair.privateKey, 'ES256')
    const original = (await outcome(auth, token)) as AuthPrincipal
    const rng = new Rng(SEED + 4)
    for (let i = 0; i < 300; i++) {
      const mutated = rng.chance(0.7) ? mutateCharacters(rng, token) : `${b64({ alg: rng.pick(ALGS) })}.${token.split('.').slice(1).join('.')}`
      const principal = await outcome(auth, mutated)
      if (principal) expectNoWider(principal, original, mutated)
    }
  })
})

describe('carriers', () => {
  test('random Authorization, Cookie and query values: a well-formed token, nothing, or invalid_token', () => {
    const rng = new Rng(SEED + 5)
    const pieces = ['Bearer', 'bearer', 'Basic', ' ', ',', ';', '=', '"', 'herald_token', 'access_token', 'eyJ.a.b', '\t', 'é', '%20', '&', '?', 'x']
    const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
    for (let i = 0; i < 3000; i++) {
      const text = () => Array.from({ length: rng.int(0, 8) }, () => rng.pick(pieces)).join('')
      const headers = new Headers()
      try {
        if (rng.chance(0.5)) headers.set('authorization', text())
        if (rng.chance(0.5)) headers.set('cookie', text())
      } catch {
        continue // a value Headers itself refuses never reaches Herald
      }
      let url = `http://h/e?${text()}`
      try {
        url = new URL(url).href
      } catch {
        continue
      }
      try {
        const found = findToken(new Request(url, { headers }))
        if (found) expect(found.token).toMatch(TOKEN)
      } catch (error) {
        if (!(error instanceof HubError) || error.code !== 'invalid_token') throw error
      }
    }
  })
})

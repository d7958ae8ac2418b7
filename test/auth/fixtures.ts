/** Keys, settings and token forging for the auth tests. */
import { createHmac, type KeyObject } from 'node:crypto'
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose'
import { type AuthSettings, createAuthenticator, type HeraldAuthenticator } from '../../src/auth/authenticator'
import { HubError, type HubErrorCode } from '../../src/hub/errors'
import { expect } from 'bun:test'

/** A 40-byte secret. */
export const SECRET = 'test-secret-0123456789-abcdefghijklmnopq'

/** A pinned clock: 2030-01-01T00:00:00Z, in milliseconds. */
export const NOW = Date.UTC(2030, 0, 1)
export const NOW_S = NOW / 1000

/** Settings with no key; override what a test needs. */
export function settings(overrides: Partial<AuthSettings> = {}): AuthSettings {
  return { jwtSecret: '', jwtKey: '', jwtIssuer: '', jwtAudience: '', jwtClockToleranceMs: 30_000, jwtMaxSelectors: 100, public: [], ...overrides }
}

/** An authenticator with the pinned clock (mutable through `clock.now`). */
export function authenticator(overrides: Partial<AuthSettings> = {}, clock: { now: number } = { now: NOW }): HeraldAuthenticator {
  return createAuthenticator(settings(overrides), { now: () => clock.now })
}

export interface KeyPair {
  alg: string
  publicKey: CryptoKey
  privateKey: CryptoKey
  pem: string
}

const pairs = new Map<string, Promise<KeyPair>>()

/** A key pair for `alg` (one per alg and label, made once per test run). */
export function keyPair(alg: string, label = ''): Promise<KeyPair> {
  const id = `${alg}/${label}`
  let pair = pairs.get(id)
  if (!pair) {
    pair = (async () => {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) })
      return { alg, publicKey, privateKey, pem: await exportSPKI(publicKey) }
    })()
    pairs.set(id, pair)
  }
  return pair
}

/** A public JWK of `pair`, with a kid. */
export async function publicJwk(pair: KeyPair, kid: string): Promise<Record<string, unknown>> {
  return { ...(await exportJWK(pair.publicKey)), kid, use: 'sig' }
}

/** A token signed by jose: `claims` (default iat = NOW_S, exp = NOW_S + 3600) with `alg` and `key`. */
export async function sign(claims: JWTPayload, key: CryptoKey | KeyObject | Uint8Array | string = SECRET, alg = 'HS256', header: Record<string, unknown> = {}): Promise<string> {
  const secret = typeof key === 'string' ? new TextEncoder().encode(key) : key
  return await new SignJWT({ iat: NOW_S, exp: NOW_S + 3600, ...claims }).setProtectedHeader({ alg, ...header }).sign(secret)
}

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
}

/** A token made by hand: any header and payload, signed with HMAC-`hash` over `secret`, or with `signature` as given. */
export function forge(header: unknown, payload: unknown, options: { secret?: string | Buffer; hash?: string; signature?: string } = {}): string {
  const input = `${b64(header)}.${b64(payload)}`
  const signature = options.signature ?? createHmac(options.hash ?? 'sha256', options.secret ?? SECRET).update(input).digest('base64url')
  return `${input}.${signature}`
}

/** Expects `promise` to reject with a HubError of `code`; returns its message. */
export async function refused(promise: Promise<unknown>, code: HubErrorCode): Promise<string> {
  let caught: unknown
  try {
    await promise
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(HubError)
  expect((caught as HubError).code).toBe(code)
  return (caught as HubError).message
}

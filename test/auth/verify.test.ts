/** Token verification: one test per way a token is refused, and each key type that is accepted. */
import { describe, expect, test } from 'bun:test'
import { createPrivateKey } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, exportPKCS8, SignJWT } from 'jose'
import { createAuthenticator } from '../../src/auth/authenticator'
import { ConfigError } from '../../src/config'
import { parseSelector } from '../../src/hub/topics'
import { authenticator, forge, keyPair, NOW, NOW_S, publicJwk, refused, SECRET, settings, sign } from './fixtures'

const CLAIMS = { sub: 'ada', herald: { subscribe: ['users/{sub}/**'], publish: ['chat/**'] } }

describe('a valid HS256 token', () => {
  test('gives its principal: subject, rights, expiry', async () => {
    const principal = await authenticator({ jwtSecret: SECRET }).verify(await sign(CLAIMS))
    expect(principal.subject).toBe('ada')
    expect(principal.anonymous).toBe(false)
    expect(principal.expiresAt).toBe((NOW_S + 3600 + 30) * 1000)
    expect(principal.mayPublish('chat/room-1')).toBe(true)
    expect(principal.mayPublish('users/ada/inbox')).toBe(false)
    expect(principal.maySubscribe(parseSelector('users/ada/inbox'))).toBe(true)
    expect(principal.maySubscribe(parseSelector('users/bob/inbox'))).toBe(false)
  })

  test.each(['HS384', 'HS512'])('%s is accepted with the same secret', async (alg) => {
    expect((await authenticator({ jwtSecret: SECRET }).verify(await sign(CLAIMS, SECRET, alg))).subject).toBe('ada')
  })
})

describe('refused tokens', () => {
  const auth = () => authenticator({ jwtSecret: SECRET })

  test.each([[''], ['not-a-jwt'], ['a.b'], ['a.b.c.d'], ['...'], ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0'], ['!!!.???.###']])('malformed %p → invalid_token', async (token) => {
    await refused(auth().verify(token), 'invalid_token')
  })

  test('a header that is not JSON → invalid_token', async () => {
    await refused(auth().verify(`${Buffer.from('{nope').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.sig`), 'invalid_token')
  })

  test('a payload that is not a JSON object → invalid_token', async () => {
    for (const payload of ['[1,2]', '"text"', '42', 'null', '{bad']) {
      const input = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(payload).toString('base64url')}`
      const { createHmac } = await import('node:crypto')
      await refused(auth().verify(`${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`), 'invalid_token')
    }
  })

  test('a wrong signature → invalid_token, and the message does not echo the token', async () => {
    const token = await sign(CLAIMS, `${SECRET}-other`)
    const message = await refused(auth().verify(token), 'invalid_token')
    expect(message).toContain('signature')
    expect(message).not.toContain(token.split('.')[2] as string)
    expect(message).not.toContain(token.split('.')[1] as string)
  })

  test('alg "none" with an empty signature → invalid_token naming the allowed algorithms', async () => {
    const message = await refused(auth().verify(forge({ alg: 'none' }, CLAIMS, { signature: '' })), 'invalid_token')
    expect(message).toContain('"none"')
    expect(message).toContain('HS256')
  })

  test.each(['None', 'NONE', 'nOnE', 'HS256 ', 'hs256', 'RS256', 'ES256', 'EdDSA', 'PS256'])('alg %p with an HMAC signature → invalid_token', async (alg) => {
    await refused(auth().verify(forge({ alg }, CLAIMS)), 'invalid_token')
  })

  test('a header without alg, or with a non-string alg → invalid_token', async () => {
    await refused(auth().verify(forge({ typ: 'JWT' }, CLAIMS)), 'invalid_token')
    await refused(auth().verify(forge({ alg: 256 }, CLAIMS)), 'invalid_token')
    await refused(auth().verify(forge({ alg: ['HS256'] }, CLAIMS)), 'invalid_token')
  })

  test('an unknown critical header → invalid_token', async () => {
    await refused(auth().verify(forge({ alg: 'HS256', crit: ['exp-ext'], 'exp-ext': 1 }, CLAIMS)), 'invalid_token')
  })

  test('an unencoded payload (b64: false) → invalid_token', async () => {
    await refused(auth().verify(forge({ alg: 'HS256', b64: false, crit: ['b64'] }, CLAIMS)), 'invalid_token')
  })

  test('a jwk or jku in the header is never used as the key', async () => {
    const pair = await keyPair('ES256', 'attacker')
    const jwk = await publicJwk(pair, 'evil')
    const token = await sign(CLAIMS, pair.privateKey, 'ES256', { jwk, jku: 'http://127.0.0.1:1/jwks.json' })
    await refused(auth().verify(token), 'invalid_token')
  })
})

describe('time', () => {
  const clock = { now: NOW }
  const auth = authenticator({ jwtSecret: SECRET }, clock)

  test('expired beyond the tolerance → token_expired, naming the time', async () => {
    clock.now = NOW
    const message = await refused(auth.verify(await sign({ ...CLAIMS, exp: NOW_S - 31 })), 'token_expired')
    expect(message).toContain(new Date((NOW_S - 31) * 1000).toISOString())
    expect(message).toContain('30s')
  })

  test('exp: accepted until exp + tolerance (exclusive); one second later refused', async () => {
    const token = await sign({ ...CLAIMS, exp: NOW_S })
    clock.now = NOW + 29_999 // the last moment inside the tolerance
    expect((await auth.verify(token)).expiresAt).toBe(NOW + 30_000)
    clock.now = NOW + 30_000 // exactly exp + tolerance: the first refused moment (= expiresAt)
    await refused(auth.verify(token), 'token_expired')
    clock.now = NOW + 31_000
    await refused(auth.verify(token), 'token_expired')
  })

  test('nbf: accepted from nbf − tolerance (inclusive); one second earlier refused as token_expired', async () => {
    const token = await sign({ ...CLAIMS, nbf: NOW_S })
    clock.now = NOW - 30_000
    expect((await auth.verify(token)).subject).toBe('ada')
    clock.now = NOW - 31_000
    const message = await refused(auth.verify(token), 'token_expired')
    expect(message).toContain('not valid before')
  })

  test('a tolerance of 0 is exact', async () => {
    const exact = { now: NOW }
    const zero = authenticator({ jwtSecret: SECRET, jwtClockToleranceMs: 0 }, exact)
    const token = await sign({ ...CLAIMS, exp: NOW_S + 1 })
    expect((await zero.verify(token)).expiresAt).toBe(NOW + 1000)
    exact.now = NOW + 1000
    await refused(zero.verify(token), 'token_expired')
  })

  test('exp or nbf that is not a number → invalid_token', async () => {
    clock.now = NOW
    await refused(auth.verify(await sign({ ...CLAIMS, exp: 'tomorrow' as unknown as number })), 'invalid_token')
    await refused(auth.verify(await sign({ ...CLAIMS, nbf: 'now' as unknown as number })), 'invalid_token')
  })

  test('a token without exp never expires (expiresAt undefined)', async () => {
    clock.now = NOW
    const token = forge({ alg: 'HS256' }, CLAIMS)
    expect((await auth.verify(token)).expiresAt).toBeUndefined()
  })
})

describe('issuer and audience', () => {
  const auth = authenticator({ jwtSecret: SECRET, jwtIssuer: 'https://id.example', jwtAudience: 'herald' })

  test('matching iss and aud (aud may be a list) → accepted', async () => {
    expect((await auth.verify(await sign({ ...CLAIMS, iss: 'https://id.example', aud: 'herald' }))).subject).toBe('ada')
    expect((await auth.verify(await sign({ ...CLAIMS, iss: 'https://id.example', aud: ['other', 'herald'] }))).subject).toBe('ada')
  })

  test.each([
    [{ iss: 'https://evil.example', aud: 'herald' }, 'issuer'],
    [{ aud: 'herald' }, '"iss"'],
    [{ iss: 'https://id.example', aud: 'other' }, 'audience'],
    [{ iss: 'https://id.example' }, '"aud"'],
    [{ iss: 'https://id.example', aud: ['a', 'b'] }, 'audience'],
  ])('%p → invalid_token about the %s', async (claims, word) => {
    expect(await refused(auth.verify(await sign({ ...CLAIMS, ...claims })), 'invalid_token')).toContain(word)
  })
})

describe('public keys', () => {
  test.each(['RS256', 'RS512', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'])('%s with its public key PEM → accepted', async (alg) => {
    const pair = await keyPair(alg)
    const principal = await authenticator({ jwtKey: pair.pem }).verify(await sign(CLAIMS, pair.privateKey, alg))
    expect(principal.subject).toBe('ada')
  })

  test('an RSA key allows RS* and PS*, nothing else', async () => {
    const auth = createAuthenticator(settings({ jwtKey: (await keyPair('RS256')).pem }))
    expect(auth.algorithms).toEqual(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'])
    const pair = await keyPair('RS256')
    // node:crypto's KeyObject signs with any RSA algorithm (a WebCrypto key is bound to one).
    const privateKey = createPrivateKey(await exportPKCS8(pair.privateKey))
    expect((await authenticator({ jwtKey: pair.pem }).verify(await sign(CLAIMS, privateKey, 'PS384'))).subject).toBe('ada')
  })

  test('an EC key allows only the ES algorithm of its curve; Ed25519 only EdDSA', async () => {
    expect(createAuthenticator(settings({ jwtKey: (await keyPair('ES384')).pem })).algorithms).toEqual(['ES384'])
    expect(createAuthenticator(settings({ jwtKey: (await keyPair('EdDSA')).pem })).algorithms).toEqual(['EdDSA', 'Ed25519'])
  })

  test('HS/RS confusion: an HS256 token whose secret is the server\'s RSA public key PEM → invalid_token', async () => {
    const pair = await keyPair('RS256')
    const auth = authenticator({ jwtKey: pair.pem })
    for (const secret of [pair.pem, pair.pem.trim(), `${pair.pem.trim()}\n`]) {
      const message = await refused(auth.verify(forge({ alg: 'HS256' }, CLAIMS, { secret })), 'invalid_token')
      expect(message).toContain('"HS256"')
    }
  })

  test('an EC token against an RSA key, and a token signed by another EC key → invalid_token', async () => {
    const rsa = await keyPair('RS256')
    const ec = await keyPair('ES256')
    const other = await keyPair('ES256', 'other')
    await refused(authenticator({ jwtKey: rsa.pem }).verify(await sign(CLAIMS, ec.privateKey, 'ES256')), 'invalid_token')
    await refused(authenticator({ jwtKey: ec.pem }).verify(await sign(CLAIMS, other.privateKey, 'ES256')), 'invalid_token')
  })

  test('with both a secret and a key: HS tokens use the secret only, the others the key only', async () => {
    const pair = await keyPair('ES256')
    const auth = authenticator({ jwtSecret: SECRET, jwtKey: pair.pem })
    expect((await auth.verify(await sign(CLAIMS))).subject).toBe('ada')
    expect((await auth.verify(await sign(CLAIMS, pair.privateKey, 'ES256'))).subject).toBe('ada')
    await refused(auth.verify(forge({ alg: 'HS256' }, CLAIMS, { secret: pair.pem })), 'invalid_token')
  })

  test('a JWKS with several keys: the token\'s kid picks the key', async () => {
    const a = await keyPair('ES256', 'a')
    const b = await keyPair('RS256', 'b')
    const c = await keyPair('ES256', 'c')
    const jwks = JSON.stringify({ keys: [await publicJwk(a, 'key-a'), await publicJwk(b, 'key-b'), await publicJwk(c, 'key-c')] })
    const auth = authenticator({ jwtKey: jwks })
    expect((await auth.verify(await sign(CLAIMS, a.privateKey, 'ES256', { kid: 'key-a' }))).subject).toBe('ada')
    expect((await auth.verify(await sign(CLAIMS, b.privateKey, 'RS256', { kid: 'key-b' }))).subject).toBe('ada')
    expect((await auth.verify(await sign(CLAIMS, c.privateKey, 'ES256', { kid: 'key-c' }))).subject).toBe('ada')
    // The right key under the wrong kid, an unknown kid, and no kid where two EC keys could match.
    await refused(auth.verify(await sign(CLAIMS, a.privateKey, 'ES256', { kid: 'key-c' })), 'invalid_token')
    expect(await refused(auth.verify(await sign(CLAIMS, a.privateKey, 'ES256', { kid: 'nope' })), 'invalid_token')).toContain('kid')
    expect(await refused(auth.verify(await sign(CLAIMS, a.privateKey, 'ES256')), 'invalid_token')).toContain('kid')
    // HS256 signed with a JWK's text as the secret: HS is not allowed at all with a JWKS.
    await refused(auth.verify(forge({ alg: 'HS256', kid: 'key-b' }, CLAIMS, { secret: jwks })), 'invalid_token')
  })

  test('a JWK with "alg" allows only that algorithm', async () => {
    const pair = await keyPair('RS256')
    const privateKey = createPrivateKey(await exportPKCS8(pair.privateKey))
    const auth = authenticator({ jwtKey: JSON.stringify({ keys: [{ ...(await publicJwk(pair, 'k')), alg: 'PS256' }] }) })
    expect(auth.algorithms).toEqual(['PS256'])
    expect((await auth.verify(await sign(CLAIMS, privateKey, 'PS256', { kid: 'k' }))).subject).toBe('ada')
    await refused(auth.verify(await sign(CLAIMS, privateKey, 'RS256', { kid: 'k' })), 'invalid_token')
  })

  test('a key file path works like the key itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-keys-'))
    try {
      const pair = await keyPair('ES256')
      writeFileSync(join(dir, 'public.pem'), pair.pem)
      writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [await publicJwk(pair, 'k1')] }))
      expect((await authenticator({ jwtKey: join(dir, 'public.pem') }).verify(await sign(CLAIMS, pair.privateKey, 'ES256'))).subject).toBe('ada')
      expect((await authenticator({ jwtKey: join(dir, 'jwks.json') }).verify(await sign(CLAIMS, pair.privateKey, 'ES256', { kid: 'k1' }))).subject).toBe('ada')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('configuration refused at start (ConfigError naming the option)', () => {
  const configError = (overrides: Parameters<typeof settings>[0]) => {
    let caught: unknown
    try {
      createAuthenticator(settings(overrides))
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ConfigError)
    return (caught as Error).message
  }

  test('a secret of 31 bytes is refused, 32 bytes accepted; the message never shows the secret', () => {
    const message = configError({ jwtSecret: 's'.repeat(31) })
    expect(message).toContain('--jwt-secret')
    expect(message).toContain('31 bytes')
    expect(message).not.toContain('s'.repeat(31))
    expect(createAuthenticator(settings({ jwtSecret: 's'.repeat(32) })).enabled).toBe(true)
  })

  test('a private key PEM is refused with how to get the public one', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const message = configError({ jwtKey: await exportPKCS8(privateKey) })
    expect(message).toContain('PRIVATE')
    expect(message).toContain('-pubout')
  })

  test('a JWKS with private members or a symmetric key is refused', async () => {
    const pair = await keyPair('ES256')
    const { exportJWK } = await import('jose')
    expect(configError({ jwtKey: JSON.stringify({ keys: [await exportJWK(pair.privateKey)] }) })).toContain('private')
    expect(configError({ jwtKey: JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }) })).toContain('--jwt-secret')
  })

  test('an RSA key under 2048 bits is refused', async () => {
    const { publicKey } = await import('node:crypto').then((crypto) => crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }))
    expect(configError({ jwtKey: publicKey.export({ type: 'spki', format: 'pem' }) as string })).toContain('2048')
  })

  test('an unsupported curve or key type is refused', async () => {
    const crypto = await import('node:crypto')
    const k1 = crypto.generateKeyPairSync('ec', { namedCurve: 'secp224r1' }).publicKey.export({ type: 'spki', format: 'pem' }) as string
    expect(configError({ jwtKey: k1 })).toContain('curve')
    const x = crypto.generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }) as string
    expect(configError({ jwtKey: x })).toContain('x25519')
  })

  test('a missing file, garbage, bad JSON and an empty JWKS are refused', () => {
    expect(configError({ jwtKey: '/nonexistent/key.pem' })).toContain('no such file')
    expect(configError({ jwtKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' })).toContain('--jwt-key')
    expect(configError({ jwtKey: '{"keys": [' })).toContain('JSON')
    expect(configError({ jwtKey: '{"keys": []}' })).toContain('no signature key')
  })

  test('--public, --jwt-issuer or --jwt-audience without a key is refused', () => {
    expect(configError({ public: ['news/**'] })).toContain('--public')
    expect(configError({ jwtIssuer: 'x' })).toContain('--jwt-issuer')
    expect(configError({ jwtAudience: 'x' })).toContain('--jwt-audience')
  })

  test('an invalid --public selector from the plugin is refused', () => {
    expect(configError({ jwtSecret: SECRET, public: ['news/**/x'] })).toContain('--public')
  })
})

describe('no key configured', () => {
  test('enabled is false, anonymous may do everything but see a private event, and every token is refused', async () => {
    const auth = createAuthenticator(settings())
    expect(auth.enabled).toBe(false)
    const anyone = auth.anonymous()
    // Nobody can show a token entitling them to a private event, so none reaches a client.
    expect(anyone.seesEverything).toBe(false)
    const event = { id: '1-0', position: { ms: 1, seq: 0 }, topic: 'any/topic', data: 'x', json: false, time: 1 }
    expect(anyone.maySee({ ...event, private: true })).toBe(false)
    expect(anyone.maySee(event)).toBe(true)
    expect(anyone.mayPublish('any/topic')).toBe(true)
    expect(anyone.maySubscribe(parseSelector('**'))).toBe(true)
    expect(await refused(auth.verify(await sign(CLAIMS)), 'invalid_token')).toContain('no key')
  })
})

test('a token signed by signToken-like code with the clock of the server: iat in the future is fine', async () => {
  // iat is informational: Herald does not refuse a token issued "in the future" by a fast clock.
  const token = await new SignJWT(CLAIMS).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(NOW_S + 600).setExpirationTime(NOW_S + 3600).sign(new TextEncoder().encode(SECRET))
  expect((await authenticator({ jwtSecret: SECRET }).verify(token)).subject).toBe('ada')
})

test('expiry is the refusal moment: NOW inside, expiresAt outside', async () => {
  const clock = { now: NOW }
  const auth = authenticator({ jwtSecret: SECRET }, clock)
  const principal = await auth.verify(await sign(CLAIMS))
  clock.now = (principal.expiresAt as number) - 1
  await auth.verify(await sign(CLAIMS))
  clock.now = principal.expiresAt as number
  await refused(auth.verify(await sign(CLAIMS)), 'token_expired')
})

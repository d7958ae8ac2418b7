import { describe, expect, test } from 'bun:test'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { signToken } from '../../src/auth/sign'
import { parseTokenCommand, tokenCommand } from '../../src/auth/token-command'
import { ConfigError } from '../../src/config'
import { HubError } from '../../src/hub/errors'
import { parseSelector } from '../../src/hub/topics'
import { authenticator, NOW, NOW_S, SECRET } from './fixtures'

describe('signToken', () => {
  test('makes a token Herald (jose) accepts, with exactly the rights asked for', async () => {
    const token = signToken({ secret: SECRET, sub: 'a/b', subscribe: ['users/{sub}/**'], publish: ['chat/*'], ttlMs: 90_000, now: NOW })
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' })
    expect(decodeJwt(token)).toEqual({ sub: 'a/b', iat: NOW_S, exp: NOW_S + 90, herald: { subscribe: ['users/{sub}/**'], publish: ['chat/*'] } })
    const principal = await authenticator({ jwtSecret: SECRET }).verify(token)
    expect(principal.subject).toBe('a/b')
    expect(principal.maySubscribe(parseSelector('users/a~2Fb/inbox'))).toBe(true)
    expect(principal.maySubscribe(parseSelector('users/a/b'))).toBe(false)
    expect(principal.mayPublish('chat/x')).toBe(true)
  })

  test.each(['HS384', 'HS512'] as const)('%s, iss and aud: accepted by a server that checks them', async (alg) => {
    const token = signToken({ secret: SECRET, subscribe: ['news/**'], ttlMs: 1000, now: NOW, alg, issuer: 'me', audience: 'herald' })
    expect(decodeJwt(token)).toMatchObject({ iss: 'me', aud: 'herald' })
    expect((await authenticator({ jwtSecret: SECRET, jwtIssuer: 'me', jwtAudience: 'herald' }).verify(token)).anonymous).toBe(false)
  })

  test('a ttl is rounded up to whole seconds', () => {
    expect(decodeJwt(signToken({ secret: SECRET, subscribe: ['a'], ttlMs: 1, now: NOW })).exp).toBe(NOW_S + 1)
  })

  test('refuses what the server would refuse, never minting it', () => {
    expect(() => signToken({ secret: 'x'.repeat(31), subscribe: ['a'], ttlMs: 1000 })).toThrow(ConfigError)
    expect(() => signToken({ secret: SECRET, subscribe: ['a'], ttlMs: 0 })).toThrow(ConfigError)
    expect(() => signToken({ secret: SECRET, subscribe: ['a/**/b'], ttlMs: 1000 })).toThrow(HubError)
    expect(() => signToken({ secret: SECRET, subscribe: ['users/{sub}'], ttlMs: 1000 })).toThrow('{sub}')
    expect(() => signToken({ secret: SECRET, sub: '', subscribe: ['users/{sub}'], ttlMs: 1000 })).toThrow('{sub}')
  })
})

describe('herald token', () => {
  const env = { HERALD_JWT_SECRET: SECRET }

  test('reads flags over env vars; --subscribe and --publish repeat and split on commas', () => {
    const command = parseTokenCommand(['--sub', 'ada', '--subscribe', 'users/{sub}/**,news/**', '--subscribe=status', '--publish', 'chat/**', '--ttl', '15m', '--jwt-issuer', 'me'], { ...env, HERALD_JWT_ISSUER: 'env', HERALD_JWT_AUDIENCE: 'aud' })
    expect(command).toEqual({ kind: 'sign', request: { secret: SECRET, sub: 'ada', subscribe: ['users/{sub}/**', 'news/**', 'status'], publish: ['chat/**'], ttlMs: 900_000, alg: 'HS256', issuer: 'me', audience: 'aud' } })
  })

  test('defaults: 1h, HS256; --help', () => {
    expect(parseTokenCommand(['--subscribe', 'a'], env)).toMatchObject({ request: { ttlMs: 3_600_000, alg: 'HS256' } })
    expect(parseTokenCommand(['--subscribe', 'a', '--ttl', '7d'], env)).toMatchObject({ request: { ttlMs: 7 * 86_400_000 } })
    expect(parseTokenCommand(['--help'], {})).toEqual({ kind: 'help' })
  })

  test.each([
    [['--subscribe', 'a'], {}, 'HERALD_JWT_SECRET'],
    [['--subscribe', 'a', '--jwt-secret', 'short'], {}, 'at least 32'],
    [['--sub', 'ada'], { HERALD_JWT_SECRET: SECRET }, '--subscribe'],
    [['--subscribe', 'a', '--port', '1'], { HERALD_JWT_SECRET: SECRET }, 'unknown option "--port"'],
    [['--subscribe'], { HERALD_JWT_SECRET: SECRET }, 'needs a value'],
    [['--subscribe', 'a', '--ttl', '0'], { HERALD_JWT_SECRET: SECRET }, 'more than 0'],
    [['--subscribe', 'a', '--ttl', 'forever'], { HERALD_JWT_SECRET: SECRET }, '--ttl'],
    [['--subscribe', 'a', '--alg', 'RS256'], { HERALD_JWT_SECRET: SECRET }, '--alg'],
  ])('%p is refused: %s', (argv, environment, fragment) => {
    expect(() => parseTokenCommand(argv, environment)).toThrow(ConfigError)
    expect(() => parseTokenCommand(argv, environment)).toThrow(fragment)
  })

  test('prints the token and a newline; a failure is one line with exit code 2, never showing the secret', async () => {
    const result = tokenCommand(['--sub', 'ada', '--subscribe', 'users/{sub}/**'], env)
    expect('stdout' in result && result.stdout.endsWith('\n')).toBe(true)
    const token = 'stdout' in result ? result.stdout.trim() : ''
    expect((await authenticator({ jwtSecret: SECRET }, { now: Date.now() }).verify(token)).subject).toBe('ada')
    const failures = [tokenCommand(['--subscribe', 'users/{sub}/x'], env), tokenCommand(['--subscribe', 'a/**/b'], env), tokenCommand(['--subscribe', 'a', '--jwt-secret', 'tiny-secret'], {})]
    for (const failure of failures) {
      expect(failure).toMatchObject({ exitCode: 2 })
      const message = 'message' in failure ? failure.message : ''
      expect(message).toMatch(/^token: [^\n]+; run "herald token --help"$/)
      expect(message).not.toContain('tiny-secret')
    }
  })
})

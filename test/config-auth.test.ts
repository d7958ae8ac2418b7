/** The auth options: each parser at its boundary, and secrets kept out of the start-up log. */
import { expect, test } from 'bun:test'
import { changedOptions, ConfigError, DEFAULTS, helpText, parseCommandLine } from '../src/config'

function options(argv: string[], env: Record<string, string> = {}) {
  const command = parseCommandLine(argv, env)
  if (command.kind !== 'serve') throw new Error('expected serve')
  return command.options
}

function refused(argv: string[], env: Record<string, string> = {}): string {
  let caught: unknown
  try {
    parseCommandLine(argv, env)
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(ConfigError)
  return (caught as Error).message
}

test('defaults: no key, 30s tolerance, 100 selectors, cookie herald_token, nothing public', () => {
  expect(DEFAULTS).toMatchObject({ jwtSecret: '', jwtKey: '', jwtIssuer: '', jwtAudience: '', jwtClockToleranceMs: 30_000, jwtMaxSelectors: 100, jwtCookie: 'herald_token', public: [] })
})

test('--jwt-secret: 32 bytes pass, 31 are refused (counted in UTF-8 bytes), and the message never shows it', () => {
  expect(options(['--jwt-secret', 'k'.repeat(32)]).jwtSecret).toBe('k'.repeat(32))
  expect(refused(['--jwt-secret', 'k'.repeat(31)])).not.toContain('k'.repeat(31))
  expect(refused([], { HERALD_JWT_SECRET: 'k'.repeat(31) })).toContain('HERALD_JWT_SECRET')
  // 16 × "é" is 16 characters and 32 bytes; 15 × "é" + "a" is 16 characters and 31 bytes.
  expect(options(['--jwt-secret', 'é'.repeat(16)]).jwtSecret).toBe('é'.repeat(16))
  expect(refused(['--jwt-secret', `${'é'.repeat(15)}a`])).toContain('31 bytes')
  // Taken exactly as given: spaces are part of a secret.
  expect(options(['--jwt-secret', ` ${'k'.repeat(32)} `]).jwtSecret).toBe(` ${'k'.repeat(32)} `)
})

test('--jwt-clock-tolerance: whole seconds from 0 to 10m', () => {
  expect(options(['--jwt-clock-tolerance', '0']).jwtClockToleranceMs).toBe(0)
  expect(options(['--jwt-clock-tolerance', '10m']).jwtClockToleranceMs).toBe(600_000)
  expect(options(['--jwt-clock-tolerance', '5s']).jwtClockToleranceMs).toBe(5000)
  refused(['--jwt-clock-tolerance', '601s'])
  refused(['--jwt-clock-tolerance', '1500ms'])
})

test('--jwt-max-selectors: 1 to 10000', () => {
  expect(options(['--jwt-max-selectors', '1']).jwtMaxSelectors).toBe(1)
  expect(options(['--jwt-max-selectors', '10000']).jwtMaxSelectors).toBe(10_000)
  refused(['--jwt-max-selectors', '0'])
  refused(['--jwt-max-selectors', '10001'])
})

test('--jwt-cookie: a cookie name', () => {
  expect(options(['--jwt-cookie', 'rt_token']).jwtCookie).toBe('rt_token')
  refused(['--jwt-cookie', 'a b'])
  refused(['--jwt-cookie', 'a;b'])
  refused(['--jwt-cookie', 'a=b'])
})

test('--public: selectors separated by commas or spaces, each valid', () => {
  expect(options(['--public', 'news/**,status']).public).toEqual(['news/**', 'status'])
  expect(options([], { HERALD_PUBLIC: 'news/** status, a/*' }).public).toEqual(['news/**', 'status', 'a/*'])
  expect(refused(['--public', 'news/**/x'])).toContain('--public')
  refused(['--public', ','])
  refused(['--public', 'users/{sub}/**'])
})

test('the start-up log shows that a secret is set, never the secret; an inline key as (inline key), a key path as is', () => {
  const secret = 's3cr3t-'.repeat(6)
  const changed = changedOptions(options(['--jwt-secret', secret, '--jwt-key', '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----', '--public', 'news/**']))
  expect(changed).toMatchObject({ jwtSecret: '(set)', jwtKey: '(inline key)', public: ['news/**'] })
  expect(JSON.stringify(changed)).not.toContain(secret)
  expect(changedOptions(options(['--jwt-key', '/etc/herald/jwks.json']))).toMatchObject({ jwtKey: '/etc/herald/jwks.json' })
})

test('--help lists the token subcommand', () => {
  expect(helpText()).toContain('herald token --sub')
})

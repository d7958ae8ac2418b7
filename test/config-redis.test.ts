/** The Redis options: their parsers at their boundaries, the password kept out of logs, and --store with --redis. */
import { expect, test } from 'bun:test'
import { changedOptions, ConfigError, DEFAULTS, parseCommandLine } from '../src/config'
import { redactRedisUrl, redisTarget } from '../src/redis/url'
import { createServer } from '../src/server'

const parse = (argv: string[], env: Record<string, string> = {}) => {
  const command = parseCommandLine(argv, env)
  if (command.kind !== 'serve') throw new Error('not a serve command')
  return command.options
}

test('defaults: no Redis, prefix herald, require, 2s, 100000 log entries', () => {
  expect(DEFAULTS).toMatchObject({ redis: '', redisPassword: '', redisPrefix: 'herald', redisStart: 'require', redisTimeoutMs: 2000, redisLogSize: 100_000 })
})

test.each(['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379/0', 'redis://cache.internal/15', 'rediss://user:p%40ss@cache.example.com:6380/2', 'redis://[::1]:6379'])('--redis %s is accepted', (url) => {
  expect(parse(['--redis', url]).redis).toBe(url)
  expect(parse([], { HERALD_REDIS: url }).redis).toBe(url)
})

test.each([
  ['http://127.0.0.1:6379', 'redis://'],
  ['127.0.0.1:6379', 'redis://'],
  ['redis://127.0.0.1:6379/zero', 'database number'],
  ['redis://127.0.0.1:6379/0?timeout=1', 'query'],
  ['redis://', 'host'],
])('--redis %s is refused, saying why', (url, fragment) => {
  expect(() => parse(['--redis', url])).toThrow(ConfigError)
  expect(() => parse(['--redis', url])).toThrow(fragment)
})

test('--redis-prefix: 64 characters pass, 65 do not; no glob characters, no ":" (two clusters\' keys never meet)', () => {
  expect(parse(['--redis-prefix', 'a'.repeat(64)]).redisPrefix).toBe('a'.repeat(64))
  expect(() => parse(['--redis-prefix', 'a'.repeat(65)])).toThrow('--redis-prefix')
  // With ":" allowed, cluster "a:t"'s meta would be cluster "a"'s topic "meta" (a:t:meta).
  for (const bad of ['her*ald', 'a b', 'x[1]', '', 'a:t', 'prod:eu']) expect(() => parse(['--redis-prefix', bad])).toThrow(ConfigError)
  expect(parse(['--redis-prefix', 'prod.eu-1_a']).redisPrefix).toBe('prod.eu-1_a')
})

test('--redis-start: require or degraded', () => {
  expect(parse(['--redis-start', 'degraded']).redisStart).toBe('degraded')
  expect(parse([], { HERALD_REDIS_START: 'require' }).redisStart).toBe('require')
  expect(() => parse(['--redis-start', 'maybe'])).toThrow('require, degraded')
})

test('--redis-timeout: from 1ms to 60s', () => {
  expect(parse(['--redis-timeout', '1ms']).redisTimeoutMs).toBe(1)
  expect(parse(['--redis-timeout', '60s']).redisTimeoutMs).toBe(60_000)
  expect(() => parse(['--redis-timeout', '0'])).toThrow('--redis-timeout')
  expect(() => parse(['--redis-timeout', '60001ms'])).toThrow('--redis-timeout')
})

test('--redis-log: from 1 to 100000000 entries', () => {
  expect(parse(['--redis-log', '1']).redisLogSize).toBe(1)
  expect(parse(['--redis-log', '100000000']).redisLogSize).toBe(100_000_000)
  expect(() => parse(['--redis-log', '0'])).toThrow('--redis-log')
  expect(() => parse(['--redis-log', '100000001'])).toThrow('--redis-log')
})

test('passwords never reach the start line: in the URL, or from HERALD_REDIS_PASSWORD', () => {
  const options = parse(['--redis', 'redis://app:s3cret@cache:6379/1'], { HERALD_REDIS_PASSWORD: 'other-secret' })
  const logged = JSON.stringify(changedOptions(options))
  expect(logged).not.toContain('s3cret')
  expect(logged).not.toContain('other-secret')
  expect(logged).toContain('redis://app:***@cache:6379/1')
  expect(redactRedisUrl('rediss://:p%40ss@host')).toBe('rediss://:***@host')
})

test('HERALD_REDIS_PASSWORD is used when the URL has none; a password in the URL wins', () => {
  expect(redisTarget('redis://cache:6379/0', 'p@ss:w/rd')).toBe('redis://:p%40ss%3Aw%2Frd@cache:6379/0')
  expect(redisTarget('redis://u:mine@cache:6379', 'other')).toBe('redis://u:mine@cache:6379')
  expect(redisTarget('redis://cache:6379', '')).toBe('redis://cache:6379')
})

test('--store sqlite:… with --redis is refused: the history of a cluster lives in Redis', () => {
  expect(() => createServer({ redis: 'redis://127.0.0.1:1', store: 'sqlite:/tmp/never.db' })).toThrow(ConfigError)
  expect(() => createServer({ redis: 'redis://127.0.0.1:1', store: 'sqlite:/tmp/never.db' })).toThrow('remove --store')
})

test('Redis older than 6.2 is refused by name; 6.2, 7 and Valkey (which reports 7.2) are served', async () => {
  const { versionProblem } = await import('../src/redis/link')
  expect(versionProblem('# Server\r\nredis_version:6.0.16\r\n')).toContain('Redis 6.0 is too old')
  expect(versionProblem('redis_version:5.0.7\r\n')).toContain('6.2 or newer')
  for (const ok of ['redis_version:6.2.0\r\n', 'redis_version:7.0.15\r\n', 'redis_version:7.2.4\r\nvalkey_version:8.0.1\r\n', 'redis_version:10.1.0\r\n', 'no version here']) expect(versionProblem(ok)).toBeUndefined()
})

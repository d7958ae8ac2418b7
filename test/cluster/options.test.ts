import { expect, test } from 'bun:test'
import { changedOptions, ConfigError, DEFAULTS, parseCommandLine } from '../../src/config'

const parse = (argv: string[], env: Record<string, string> = {}) => {
  const command = parseCommandLine(argv, env)
  if (command.kind !== 'serve') throw new Error('not a serve command')
  return command.options
}

test('off by default: no Redis, prefix herald, node TTL 10 s', () => {
  expect(DEFAULTS).toMatchObject({ redis: '', redisPrefix: 'herald', nodeTtlMs: 10_000 })
})

test('--redis takes redis:// and rediss:// URLs, from the flag or HERALD_REDIS; anything else is refused', () => {
  expect(parse(['--redis', 'redis://127.0.0.1:6379/0']).redis).toBe('redis://127.0.0.1:6379/0')
  expect(parse([], { HERALD_REDIS: 'rediss://:pw@cache.example:6380' }).redis).toBe('rediss://:pw@cache.example:6380')
  for (const bad of ['127.0.0.1:6379', 'http://127.0.0.1:6379', 'redis//x', 'valkey://x']) {
    expect(() => parse(['--redis', bad])).toThrow(ConfigError)
    expect(() => parse(['--redis', bad])).toThrow('--redis')
  }
})

test('the start-up log never shows a Redis password', () => {
  const options = parse(['--redis', 'redis://user:s3cret-pass@127.0.0.1:6379/2'])
  const shown = JSON.stringify(changedOptions(options))
  expect(shown).not.toContain('s3cret-pass')
  expect(shown).toContain('127.0.0.1:6379')
})

test('--redis-prefix: 1 to 64 safe characters, at the exact boundary', () => {
  expect(parse(['--redis-prefix', 'a'.repeat(64)]).redisPrefix).toBe('a'.repeat(64))
  expect(() => parse(['--redis-prefix', 'a'.repeat(65)])).toThrow('--redis-prefix')
  expect(parse(['--redis-prefix', 'prod-eu-1.herald_2']).redisPrefix).toBe('prod-eu-1.herald_2')
  // No ':' (it ends the prefix in every key: `shop` and `shop:x` would share keys), no glob characters.
  for (const bad of ['with space', 'star*', '{tag}', 'é', 'shop:x']) expect(() => parse(['--redis-prefix', bad])).toThrow('--redis-prefix')
})

test('--node-ttl: 1 s to 5 min, at the exact boundaries', () => {
  expect(parse(['--node-ttl', '1s']).nodeTtlMs).toBe(1000)
  expect(() => parse(['--node-ttl', '999ms'])).toThrow('--node-ttl')
  expect(parse(['--node-ttl', '5m']).nodeTtlMs).toBe(300_000)
  expect(() => parse(['--node-ttl', '300001'])).toThrow('--node-ttl')
  expect(parse([], { HERALD_NODE_TTL: '30s' }).nodeTtlMs).toBe(30_000)
})

test('the cluster connection takes the password from HERALD_REDIS_PASSWORD unless the URL has one', async () => {
  const { withPassword } = await import('../../src/cluster/attach')
  expect(withPassword('redis://10.0.0.5:6379/0', '')).toBe('redis://10.0.0.5:6379/0')
  expect(new URL(withPassword('redis://10.0.0.5:6379/0', 'p@ss:/word')).password).toBe(encodeURIComponent('p@ss:/word'))
  expect(withPassword('redis://:inurl@10.0.0.5:6379/0', 'other')).toBe('redis://:inurl@10.0.0.5:6379/0')
})

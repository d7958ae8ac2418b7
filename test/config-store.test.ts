import { expect, test } from 'bun:test'
import { ConfigError, DEFAULTS, parseCommandLine } from '../src/config'

test('the store is memory by default; sqlite:PATH from a flag or HERALD_STORE', () => {
  expect(DEFAULTS.store).toBe('memory')
  expect(DEFAULTS.historyTtlMs).toBe(0)
  expect(parseCommandLine(['--store', 'sqlite:./data/herald.db'], {})).toMatchObject({ options: { store: 'sqlite:./data/herald.db' } })
  expect(parseCommandLine([], { HERALD_STORE: 'sqlite:/var/lib/herald.db' })).toMatchObject({ options: { store: 'sqlite:/var/lib/herald.db' } })
})

test('--history-ttl takes durations and whole days; 0 means no age limit', () => {
  expect(parseCommandLine(['--history-ttl', '90s'], {})).toMatchObject({ options: { historyTtlMs: 90_000 } })
  expect(parseCommandLine([], { HERALD_HISTORY_TTL: '7d' })).toMatchObject({ options: { historyTtlMs: 7 * 86_400_000 } })
  expect(parseCommandLine(['--history-ttl=0'], {})).toMatchObject({ options: { historyTtlMs: 0 } })
})

test.each([
  [['--store', 'redis://x'], '--store'],
  [['--store', 'sqlite:'], '--store'],
  [['--history-ttl', 'soon'], '--history-ttl'],
  [['--history-ttl', '400d'], '--history-ttl'],
])('%p is refused with a clear message', (argv, fragment) => {
  expect(() => parseCommandLine(argv, {})).toThrow(ConfigError)
  expect(() => parseCommandLine(argv, {})).toThrow(fragment)
})

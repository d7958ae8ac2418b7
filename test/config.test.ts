import { expect, test } from 'bun:test'
import { ConfigError, DEFAULTS, helpText, OPTIONS, parseCommandLine, parseDuration, parseSize } from '../src/config'

test('defaults, then env vars, then flags', () => {
  expect(parseCommandLine([], {})).toEqual({ kind: 'serve', options: DEFAULTS })
  const fromEnv = parseCommandLine([], { PORT: '8080', HERALD_KEEP_ALIVE: '5s', HERALD_MAX_MESSAGE_SIZE: '1mb' })
  expect(fromEnv).toMatchObject({ options: { port: 8080, keepAliveMs: 5000, maxMessageBytes: 1024 * 1024 } })
  const fromFlags = parseCommandLine(['--port', '9000', '--history=50', '--host', '127.0.0.1'], { PORT: '8080' })
  expect(fromFlags).toMatchObject({ options: { port: 9000, historySize: 50, host: '127.0.0.1' } })
})

test('--help and --version', () => {
  expect(parseCommandLine(['--help'], {})).toEqual({ kind: 'help' })
  expect(parseCommandLine(['-v'], {})).toEqual({ kind: 'version' })
  const help = helpText()
  for (const option of OPTIONS) {
    expect(help).toContain(option.flag)
    for (const name of option.env) expect(help).toContain(name)
  }
})

test.each([
  [['--nope'], 'unknown option'],
  [['--port'], 'needs a value'],
  [['--port', '70000'], '--port'],
  [['--port', 'abc'], '--port'],
  [['--keep-alive', 'soon'], '--keep-alive'],
  [['--max-message-size', '0'], '--max-message-size'],
])('%p is refused with a clear message', (argv, fragment) => {
  expect(() => parseCommandLine(argv, {})).toThrow(ConfigError)
  expect(() => parseCommandLine(argv, {})).toThrow(fragment)
})

test('a bad env var names itself', () => {
  expect(() => parseCommandLine([], { HERALD_HISTORY: 'lots' })).toThrow('HERALD_HISTORY')
})

test('durations and sizes', () => {
  expect(parseDuration('250ms')).toBe(250)
  expect(parseDuration('15s')).toBe(15_000)
  expect(parseDuration('2m')).toBe(120_000)
  expect(parseDuration('1500')).toBe(1500)
  expect(parseDuration('1.5s')).toBe(1500)
  // A fraction of a millisecond is a mistake, not something to round.
  expect(() => parseDuration('1.5')).toThrow(ConfigError)
  expect(() => parseDuration('0.5ms')).toThrow(ConfigError)
  expect(parseSize('64kb')).toBe(65_536)
  expect(parseSize('2048')).toBe(2048)
})

test('the README documents every option with its env var', async () => {
  const readme = await Bun.file(new URL('../README.md', import.meta.url)).text()
  for (const option of OPTIONS) {
    expect(readme).toContain(`\`${option.flag}\``)
    for (const name of option.env) expect(readme).toContain(`\`${name}\``)
  }
})

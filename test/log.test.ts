import { expect, test } from 'bun:test'
import { createLogger } from '../src/log'

test('text lines carry the level, message and fields; records below the level are dropped', () => {
  const lines: string[] = []
  const log = createLogger('info', 'text', (line) => lines.push(line))
  log.debug('hidden')
  log.info('started', { address: 'http://127.0.0.1:3000', note: 'two words' })
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO  started address=http:\/\/127\.0\.0\.1:3000 note="two words"$/)
})

test('json lines are one object each, errors included', () => {
  const lines: string[] = []
  const log = createLogger('warn', 'json', (line) => lines.push(line))
  log.info('hidden')
  log.error('failed', { error: new Error('boom') })
  expect(lines).toHaveLength(1)
  const record = JSON.parse(lines[0] as string)
  expect(record).toMatchObject({ level: 'error', msg: 'failed', error: { message: 'boom' } })
  expect(typeof record.time).toBe('string')
})

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

test('a token in a logged URL, message or error is redacted, whatever the format', () => {
  for (const format of ['text', 'json'] as const) {
    const lines: string[] = []
    const log = createLogger('debug', format, (line) => lines.push(line))
    log.error('request failed', { url: 'http://h/events?topic=a&access_token=eyJ.secret.sig&lastEventId=1-0', error: new Error('bad /ws?access_token=eyJ.secret.sig') })
    log.info('GET /events?access_token=eyJ.secret.sig', { at: new URL('http://h/ws?access_token=eyJ.secret.sig') })
    const text = lines.join('\n')
    expect(text).not.toContain('eyJ.secret.sig')
    expect(text).toContain('access_token=[redacted]')
    // What surrounds the token is kept.
    expect(text).toContain('lastEventId=1-0')
  }
})

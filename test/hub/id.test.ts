import { expect, test } from 'bun:test'
import { HubError } from '../../src/hub/errors'
import { compareIds, formatEventId, IdGenerator, parseEventId } from '../../src/hub/id'

test('ids increase within a millisecond and across a clock step back', () => {
  let now = 1000
  const ids = new IdGenerator(() => now)
  expect(formatEventId(ids.next())).toBe('1000-0')
  expect(formatEventId(ids.next())).toBe('1000-1')
  now = 900 // the wall clock steps back
  expect(formatEventId(ids.next())).toBe('1000-2')
  now = 1001
  expect(formatEventId(ids.next())).toBe('1001-0')
})

test('ids compare numerically, not as text', () => {
  expect(compareIds(parseEventId('999-10'), parseEventId('1000-2'))).toBeLessThan(0)
  expect(compareIds(parseEventId('1000-10'), parseEventId('1000-9'))).toBeGreaterThan(0)
})

test('a publisher-chosen id must be newer than the last one', () => {
  const ids = new IdGenerator(() => 5)
  ids.next()
  expect(() => ids.accept(parseEventId('5-0'))).toThrow(HubError)
  expect(formatEventId(ids.accept(parseEventId('7-3')))).toBe('7-3')
  expect(formatEventId(ids.next())).toBe('7-4')
})

test.each(['', 'abc', '1-', '-1', '1-2-3', '1.5-0', '99999999999999999-0', ' 1-0'])('rejects the id %p', (text) => {
  expect(() => parseEventId(text)).toThrow(HubError)
})

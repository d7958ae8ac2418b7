import { describe, expect, test } from 'bun:test'
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

// --- The id space: one definition for the parser and the generator --------------------------------

const MAX = Number.MAX_SAFE_INTEGER

test('the generator never hands out an id the parser refuses: the poisoned head of issue 8', () => {
  const ids = new IdGenerator(() => 1_764_135_000_000)
  ids.advanceTo(parseEventId('999999999999999-999999999999999'))
  const next = formatEventId(ids.next())
  expect(next).toBe('999999999999999-1000000000000000')
  expect(formatEventId(parseEventId(next))).toBe(next)
})

test('a sequence at the end of the space moves to the next millisecond; an exhausted space is an error, not an id', () => {
  const ids = new IdGenerator(() => 5)
  ids.advanceTo(parseEventId(`7-${MAX}`))
  expect(formatEventId(ids.next())).toBe('8-0')
  ids.advanceTo(parseEventId(`${MAX}-${MAX - 1}`))
  expect(formatEventId(ids.next())).toBe(`${MAX}-${MAX}`)
  expect(() => ids.next()).toThrow(RangeError)
  expect(formatEventId(ids.current)).toBe(`${MAX}-${MAX}`)
})

test('property: from any parseable head and any clock, next() is parseable and greater (seeded)', () => {
  let state = 0x1d5
  const random = () => {
    state = (state * 1103515245 + 12345) >>> 0
    return state / 2 ** 32
  }
  const edges = [0, 1, 9, 10, 999_999_999_999_999, 1_000_000_000_000_000, MAX - 1, MAX]
  const part = () => (random() < 0.5 ? (edges[Math.floor(random() * edges.length)] as number) : Math.floor(random() * MAX))
  for (let i = 0; i < 20_000; i++) {
    const head = { ms: part(), seq: part() }
    if (head.ms === MAX && head.seq === MAX) continue
    const clock = random() < 0.3 ? head.ms : random() < 0.5 ? part() : head.ms + Math.floor(random() * 10) - 5
    const ids = new IdGenerator(() => clock)
    ids.advanceTo(parseEventId(formatEventId(head)))
    const next = ids.next()
    const text = formatEventId(next)
    expect(compareIds(parseEventId(text), head)).toBeGreaterThan(0)
  }
})

test.each([
  ['0-0', '0-0'],
  [`${MAX}-${MAX}`, `${MAX}-${MAX}`],
  ['999999999999999-1000000000000000', '999999999999999-1000000000000000'],
])('parses the id %p at the edge of the space', (text, expected) => {
  expect(formatEventId(parseEventId(text))).toBe(expected)
})

test.each([`${MAX + 1}-0`, `0-${MAX + 1}`, '9007199254740993-0', '01-0', '1-00', '00-0', '+1-0', '1-+0', '1e3-0', '-0-0', '1-0\n'])('refuses the id %p outside the space or not in its one spelling', (text) => {
  expect(() => parseEventId(text)).toThrow(HubError)
  expect(() => parseEventId(text, 'invalid_last_event_id')).toThrow(expect.objectContaining({ code: 'invalid_last_event_id' }))
})

test('formatEventId refuses a position outside the space instead of writing an id nobody can parse', () => {
  expect(() => formatEventId({ ms: MAX + 1, seq: 0 })).toThrow(RangeError)
  expect(() => formatEventId({ ms: -1, seq: 0 })).toThrow(RangeError)
  expect(() => formatEventId({ ms: 1.5, seq: 0 })).toThrow(RangeError)
})

test('a head outside the space is refused with store_unavailable, never continued from', () => {
  const ids = new IdGenerator(() => 5)
  expect(() => ids.advanceTo({ ms: 1e16, seq: 0 })).toThrow(expect.objectContaining({ code: 'store_unavailable' }))
  expect(() => ids.advanceTo({ ms: 5, seq: -1 })).toThrow(expect.objectContaining({ code: 'store_unavailable' }))
})

// --- Publisher ids: at most maxSkewMs from the clock ---------------------------------------------

describe('a publisher id must be within the skew bound of the clock', () => {
  const NOW = 1_764_135_000_000
  const SKEW = 60_000
  const generator = () => {
    const ids = new IdGenerator(() => NOW, SKEW)
    ids.advanceTo({ ms: NOW - 2 * SKEW, seq: 0 })
    return ids
  }

  test('exactly the bound ahead passes; one millisecond more is invalid_id naming the bound', () => {
    expect(formatEventId(generator().accept({ ms: NOW + SKEW, seq: 0 }))).toBe(`${NOW + SKEW}-0`)
    expect(formatEventId(generator().accept({ ms: NOW + SKEW, seq: MAX }))).toBe(`${NOW + SKEW}-${MAX}`)
    const refused = (() => {
      try {
        generator().accept({ ms: NOW + SKEW + 1, seq: 0 })
      } catch (error) {
        return error
      }
    })()
    expect(refused).toBeInstanceOf(HubError)
    expect(refused).toMatchObject({ code: 'invalid_id' })
    expect((refused as HubError).message).toContain('60000 ms')
    expect((refused as HubError).message).toContain('--max-id-skew')
  })

  test('exactly the bound behind passes; one millisecond more is invalid_id', () => {
    expect(formatEventId(generator().accept({ ms: NOW - SKEW, seq: 0 }))).toBe(`${NOW - SKEW}-0`)
    expect(() => generator().accept({ ms: NOW - SKEW - 1, seq: 0 })).toThrow(expect.objectContaining({ code: 'invalid_id' }))
  })

  test('an id that is not newer stays id_not_increasing, whatever its time', () => {
    expect(() => generator().accept({ ms: 1, seq: 0 })).toThrow(expect.objectContaining({ code: 'id_not_increasing' }))
  })

  test('after the largest id a publisher may set, generated ids stay parseable and near the clock', () => {
    const ids = generator()
    ids.accept({ ms: NOW + SKEW, seq: MAX })
    expect(formatEventId(ids.next())).toBe(`${NOW + SKEW + 1}-0`)
    expect(() => ids.accept({ ms: NOW + SKEW + 2, seq: 0 })).toThrow(expect.objectContaining({ code: 'invalid_id' }))
  })

  test('a bound of 0 accepts only the current millisecond', () => {
    const ids = new IdGenerator(() => NOW, 0)
    expect(() => ids.accept({ ms: NOW + 1, seq: 0 })).toThrow(expect.objectContaining({ code: 'invalid_id' }))
    expect(() => ids.accept({ ms: NOW - 1, seq: 0 })).toThrow(expect.objectContaining({ code: 'invalid_id' }))
    expect(formatEventId(ids.accept({ ms: NOW, seq: 3 }))).toBe(`${NOW}-3`)
  })
})

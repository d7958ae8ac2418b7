/**
 * The client's own readings of the server's rules agree with the server's: ids, selectors, the SSE
 * frames Herald writes (parsed back byte for byte, split at every chunk boundary), and which error
 * codes are worth retrying.
 */
import { describe, expect, test } from 'bun:test'
import { STATUS_BY_CODE } from '../../src/api/errors'
import { HeraldError } from '../../src/client/errors'
import { LATER_CODES, retryable } from '../../src/client/errors'
import { isEventId, isNewer, PROBE_ID } from '../../src/client/ids'
import { matches, overlaps } from '../../src/client/selectors'
import { type SseBlock, SseParser } from '../../src/client/sse-parser'
import { compareIds, parseEventId } from '../../src/hub/id'
import { parseSelector } from '../../src/hub/topics'
import { sseClosing, sseReset, sseRetry, sseText, SSE_KEEP_ALIVE } from '../../src/transports/frames'
import { Rng, SEED } from '../hostile/prng'

const rng = new Rng(SEED)

describe('ids', () => {
  const serverAccepts = (text: string) => {
    try {
      parseEventId(text)
      return true
    } catch {
      return false
    }
  }

  test('the client accepts exactly the ids the server parses', () => {
    const parts = ['0', '1', '00', '01', '9007199254740991', '9007199254740992', '9999999999999999', '12345678901234567', '-1', '1.5', ' 1', '1e3', '']
    const texts = [PROBE_ID, '1764135000000-0', '-', '1-2-3', '1_2', '１-2']
    for (const a of parts) for (const b of parts) texts.push(`${a}-${b}`)
    for (let i = 0; i < 2000; i++) texts.push(`${rng.string(rng.int(0, 17), '0123456789')}${rng.pick(['-', '-', '_', ''])}${rng.string(rng.int(0, 17), '0123456789')}`)
    const disagreements = texts.filter((text) => isEventId(text) !== serverAccepts(text))
    expect(disagreements).toEqual([])
    expect(isEventId(PROBE_ID)).toBe(true)
  })

  test('the client orders ids as the server does', () => {
    const id = () => `${rng.pick([0, 1, 2, 1764135000000, Number.MAX_SAFE_INTEGER])}-${rng.pick([0, 1, 9, 10, Number.MAX_SAFE_INTEGER])}`
    for (let i = 0; i < 2000; i++) {
      const a = id()
      const b = id()
      expect({ a, b, newer: isNewer(a, b) }).toEqual({ a, b, newer: compareIds(parseEventId(a), parseEventId(b)) > 0 })
    }
    expect(isNewer('0-0', undefined)).toBe(true)
  })
})

describe('selectors', () => {
  const letters = ['a', 'b', 'c']
  const universe: string[] = []
  const grow = (prefix: string[]) => {
    if (prefix.length > 0) universe.push(prefix.join('/'))
    if (prefix.length < 5) for (const letter of letters) grow([...prefix, letter])
  }
  grow([])
  const selector = () => {
    const segments = Array.from({ length: rng.int(1, 4) }, () => rng.pick(['a', 'b', 'c', '*', '*']))
    if (rng.chance(0.4)) segments.push('**')
    return segments.join('/')
  }

  test('matches() routes exactly as the server selects', () => {
    for (let i = 0; i < 300; i++) {
      const source = selector()
      const server = parseSelector(source)
      const wrong = universe.filter((topic) => matches(source, topic) !== server.matches(topic))
      expect({ source, wrong }).toEqual({ source, wrong: [] })
    }
  })

  test('overlaps() is true exactly when some topic matches both', () => {
    for (let i = 0; i < 1000; i++) {
      const a = selector()
      const b = selector()
      const witness = universe.some((topic) => matches(a, topic) && matches(b, topic))
      expect({ a, b, overlaps: overlaps(a, b) }).toEqual({ a, b, overlaps: witness })
    }
  })
})

describe('the SSE parser reads what the server writes', () => {
  const parse = (chunks: string[], max = 1 << 20) => {
    const blocks: SseBlock[] = []
    const parser = new SseParser(max, (block) => blocks.push(block))
    for (const chunk of chunks) parser.push(chunk)
    return { blocks, retry: parser.retry }
  }
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

  test('every frame kind, split at every boundary', () => {
    const event = { id: '1764135000000-7', position: { ms: 1764135000000, seq: 7 }, topic: 't', event: 'chat', data: 'one\r\ntwo\rthree\nfour', json: false, time: 0 }
    const stream = [text(sseRetry(3000)), sseText(event), text(SSE_KEEP_ALIVE), text(sseReset('1764135000001-0', '1-0')), sseText({ ...event, event: undefined, data: '{"a":1}' }), text(sseClosing('overflow', 3000))].join('')
    const expected = [
      { id: '1764135000000-7', event: 'chat', data: 'one\ntwo\nthree\nfour', topic: undefined },
      { id: '1764135000001-0', event: 'reset', data: '{"lastEventId":"1-0","head":"1764135000001-0"}', topic: undefined },
      { id: '1764135000000-7', event: 'message', data: '{"a":1}', topic: undefined },
      // The closing notice has no id: the last one stands (as in EventSource).
      { id: '1764135000000-7', event: 'overflow', data: '{"reason":"overflow"}', topic: undefined },
    ]
    expect(parse([stream])).toEqual({ blocks: expected, retry: 3000 })
    for (let cut = 1; cut < stream.length; cut++) expect(parse([stream.slice(0, cut), stream.slice(cut)]).blocks).toEqual(expected)
    expect(parse([...stream]).blocks).toEqual(expected)
  })

  test('line endings, comments, fields without a colon, NUL ids, retry, topic, blocks without data', () => {
    const { blocks, retry } = parse(['\r\n', 'id: 1-0\r', '\ndata\n\n', 'id: 2\0-0\nretry: 5x\ndata:x\r\r', ': hi\nid: 3-0\n\n', 'retry: 42\ntopic: a/b\nevent: e\ndata:  two spaces\n\n'])
    expect(blocks).toEqual([
      { id: '1-0', event: 'message', data: '', topic: undefined },
      { id: '1-0', event: 'message', data: 'x', topic: undefined },
      { id: '3-0', event: 'e', data: ' two spaces', topic: 'a/b' },
    ])
    expect(retry).toBe(42)
  })

  test('a line or an event longer than the limit throws payload_too_large; the limit itself passes', () => {
    expect(parse([`data: ${'x'.repeat(100)}\n\n`], 106).blocks[0]?.data.length).toBe(100)
    const tooLong = () => parse(['data: ', 'x'.repeat(101)], 100)
    expect(tooLong).toThrow(HeraldError)
    expect(tooLong).toThrow(/maxEventSize \(100 characters\)/)
    expect(parse([`data: ${'x'.repeat(50)}\ndata: ${'y'.repeat(49)}\n\n`], 100).blocks).toHaveLength(1)
    expect(() => parse([`data: ${'x'.repeat(50)}\ndata: ${'y'.repeat(50)}\n\n`], 100)).toThrow(/maxEventSize/)
  })
})

describe('errors', () => {
  test('the server codes a subscription retries are exactly those it answers with 503 or 429', () => {
    const busy = Object.entries(STATUS_BY_CODE)
      .filter(([, status]) => status === 503 || status === 429)
      .map(([code]) => code)
    expect(LATER_CODES.filter((code) => code in STATUS_BY_CODE).sort() as string[]).toEqual(busy.sort())
  })

  test('4xx other than 408 and 429 is final; 5xx, 408, 429 and failures without an answer are retried', () => {
    const cases: [HeraldError, boolean][] = [
      [new HeraldError('invalid_selector', '', 400), false],
      [new HeraldError('not_found', '', 404), false],
      [new HeraldError('bad_response', '', 404), false],
      [new HeraldError('invalid_selector', ''), false],
      [new HeraldError('too_many_subscriptions', '', 503), true],
      [new HeraldError('internal_error', '', 500), true],
      [new HeraldError('bad_response', '', 502), true],
      [new HeraldError('rate_limited', '', 429), true],
      [new HeraldError('rate_limited', ''), true],
      [new HeraldError('network_error', ''), true],
      [new HeraldError('bad_response', '', 200), true],
    ]
    expect(cases.map(([error]) => retryable(error))).toEqual(cases.map(([, expected]) => expected))
  })
})

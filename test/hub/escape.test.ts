import { expect, test } from 'bun:test'
import { HubError } from '../../src/hub/errors'
import { escapeSegment } from '../../src/hub/escape'
import { parseSelector, validateTopic } from '../../src/hub/topics'
import { Rng, SEED } from '../hostile/prng'

test.each([
  ['ada', 'ada'],
  ['ada.lovelace@example.com', 'ada.lovelace@example.com'],
  ['a/b', 'a~2Fb'],
  ['*', '~2A'],
  ['**', '~2A~2A'],
  ['.', '~2E'],
  ['..', '~2E~2E'],
  ['a..b', 'a..b'],
  ['%2F', '~252F'],
  ['~', '~7E'],
  ['~2F', '~7E2F'],
  ['ada/../*', 'ada~2F..~2F~2A'],
  ['é', '~C3~A9'],
  ['👩‍🚀', '~F0~9F~91~A9~E2~80~8D~F0~9F~9A~80'],
  [' ', '~20'],
  ['{sub}', '~7Bsub~7D'],
])('%p → %p, one literal segment', (text, expected) => {
  const segment = escapeSegment(text)
  expect(segment).toBe(expected)
  expect(validateTopic(segment)).toBe(segment)
  expect(segment.includes('/')).toBe(false)
  expect(parseSelector(`users/${segment}/inbox`).isPattern).toBe(false)
})

test.each([[''], ['\uD800'], ['a\uDFFFb']])('%p cannot be a segment (empty, or a lone surrogate that would collide with U+FFFD)', (text) => {
  expect(() => escapeSegment(text)).toThrow(HubError)
})

function decode(segment: string): string {
  const bytes: number[] = []
  for (let i = 0; i < segment.length; ) {
    if (segment[i] === '~') {
      bytes.push(Number.parseInt(segment.slice(i + 1, i + 3), 16))
      i += 3
    } else {
      bytes.push(segment.charCodeAt(i))
      i++
    }
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes))
}

test('generated names: always one valid literal segment, and decoding gives the name back (so no two names share a segment)', () => {
  const rng = new Rng(SEED)
  const pieces = ['a', 'Z', '0', '/', '*', '**', '.', '..', '~', '%', '%2F', '~2F', ' ', '\n', '\0', 'é', '😀', '\u2028', '{sub}', ',', '=', '+', '!', '-', '_', ':', '@', '?', '#', '&']
  const seen = new Map<string, string>()
  for (let i = 0; i < 5000; i++) {
    let name = ''
    const length = rng.int(1, 8)
    for (let j = 0; j < length; j++) name += rng.pick(pieces)
    const segment = escapeSegment(name)
    expect(validateTopic(segment)).toBe(segment)
    expect(decode(segment)).toBe(name)
    const other = seen.get(segment)
    if (other !== undefined) expect(other).toBe(name)
    seen.set(segment, name)
  }
  expect(seen.size).toBeGreaterThan(3000)
})

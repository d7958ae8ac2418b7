import { expect, test } from 'bun:test'
import { selectorContains } from '../../src/hub/containment'
import { parseSelector } from '../../src/hub/topics'

// Every selector of up to 3 fixed segments over {x, y, *}, with and without a final `**`, and `**`.
function allSelectors(): string[] {
  const segments = ['x', 'y', '*']
  const prefixes: string[][] = [[]]
  for (let length = 1; length <= 3; length++) {
    for (const prefix of prefixes.filter((candidate) => candidate.length === length - 1)) for (const segment of segments) prefixes.push([...prefix, segment])
  }
  const out: string[] = []
  for (const prefix of prefixes) {
    if (prefix.length > 0) out.push(prefix.join('/'))
    out.push([...prefix, '**'].join('/'))
  }
  return out
}

// Every topic of 1 to 5 segments over {x, y, w}: `w` is a segment no selector names (what `*` adds
// over the literals), and 5 > 3 + 1 segments reaches past every selector's fixed part.
function allTopics(): string[] {
  const out: string[] = []
  let level: string[][] = [[]]
  for (let length = 1; length <= 5; length++) {
    level = level.flatMap((prefix) => ['x', 'y', 'w'].map((segment) => [...prefix, segment]))
    out.push(...level.map((topic) => topic.join('/')))
  }
  return out
}

test('selectorContains agrees with brute force over every pair of a small selector universe', () => {
  const selectors = allSelectors()
  const topics = allTopics()
  expect(selectors.length).toBe(79)
  expect(topics.length).toBe(363)
  const matched = new Map(selectors.map((source) => [source, topics.map((topic) => parseSelector(source).matches(topic))]))
  let contained = 0
  const wrong: string[] = []
  for (const outer of selectors) {
    const outerMatches = matched.get(outer) as boolean[]
    for (const inner of selectors) {
      const innerMatches = matched.get(inner) as boolean[]
      const truth = innerMatches.every((hit, index) => !hit || outerMatches[index])
      if (truth) contained++
      if (selectorContains(outer, inner) !== truth) wrong.push(`${outer} ⊇ ${inner}: expected ${truth}`)
    }
  }
  expect(wrong).toEqual([])
  // Not vacuous: both answers occur, many times.
  expect(contained).toBeGreaterThan(500)
  expect(contained).toBeLessThan(79 * 79 - 500)
})

test.each([
  ['a/**', 'a', false], // `**` needs at least one segment
  ['a/**', 'a/b', true],
  ['a/**', 'a/*', true],
  ['a/**', 'a/*/**', true],
  ['a/*', 'a/**', false],
  ['a/*', 'a/b', true],
  ['a/b', 'a/*', false],
  ['**', 'anything/at/all', true],
  ['**', '*', true],
  ['*/**', '**', false], // `**` matches one-segment topics, `*/**` does not
  ['users/ada/**', 'users/*/inbox', false],
  ['users/*/inbox', 'users/ada/inbox', true],
])('%p contains %p: %p', (outer, inner, expected) => {
  expect(selectorContains(outer, inner)).toBe(expected)
})

/**
 * The registry on its own: the pattern index (`*`, a final `**`), once-only delivery when several
 * selectors of one subscriber match, and per-selector add/remove. A seeded random family compares
 * every delivery with a reference matcher written here from the README's topic rules.
 */
import { describe, expect, test } from 'bun:test'
import { Delivery } from '../../src/hub/delivery'
import type { HubEvent } from '../../src/hub/event'
import { PatternIndex } from '../../src/hub/pattern-index'
import { Registry, type Subscriber } from '../../src/hub/registry'
import { parseSelector } from '../../src/hub/topics'
import { Rng, SEED } from '../hostile/prng'

let sequence = 0

function deliveryTo(topic: string): Delivery {
  sequence++
  const event: HubEvent = { id: `${sequence}-0`, position: { ms: sequence, seq: 0 }, topic, data: '', json: false, time: 0 }
  return new Delivery(event, sequence)
}

/** A subscriber that records the topics it was handed. */
function recorder(): Subscriber & { got: string[] } {
  const got: string[] = []
  return { got, receive: (delivery) => got.push(delivery.event.topic) }
}

const selectors = (...sources: string[]) => sources.map(parseSelector)

/** README "Topics": `*` is exactly one segment, a final `**` one or more; otherwise segments are equal. */
function referenceMatches(selector: string, topic: string): boolean {
  const want = selector.split('/')
  const have = topic.split('/')
  if (want.at(-1) === '**') {
    if (have.length < want.length) return false
    return want.slice(0, -1).every((segment, i) => segment === '*' || segment === have[i])
  }
  return want.length === have.length && want.every((segment, i) => segment === '*' || segment === have[i])
}

describe('pattern matching', () => {
  const cases: [string, string, boolean][] = [
    ['a/*', 'a/b', true],
    ['a/*', 'a', false],
    ['a/*', 'a/b/c', false],
    ['*/b', 'a/b', true],
    ['*/b', 'a/c', false],
    ['*', 'a', true],
    ['*', 'a/b', false],
    ['a/**', 'a', false],
    ['a/**', 'a/b', true],
    ['a/**', 'a/b/c/d', true],
    ['a/**', 'ab/c', false],
    ['**', 'a', true],
    ['**', 'a/b/c', true],
    ['*/**', 'a', false],
    ['*/**', 'a/b', true],
    ['a/*/c/**', 'a/x/c/d', true],
    ['a/*/c/**', 'a/x/c', false],
    ['a+b/*', 'aab/c', false], // `+` is literal
    ['a.b/*', 'axb/c', false], // `.` is literal
  ]
  test.each(cases)('%p against %p → %p', (pattern, topic, expected) => {
    const registry = new Registry()
    const subscriber = recorder()
    registry.add(subscriber, selectors(pattern))
    registry.deliver(deliveryTo(topic))
    expect(subscriber.got.length).toBe(expected ? 1 : 0)
    expect(registry.covers(subscriber, topic)).toBe(expected)
  })
})

describe('registry', () => {
  test('an event matching several selectors of one subscriber (topic and patterns) is handed to it once', () => {
    const registry = new Registry()
    const one = recorder()
    const other = recorder()
    registry.add(one, selectors('a/b', 'a/*', '*/b', 'a/**', '**'))
    registry.add(other, selectors('a/*'))
    registry.deliver(deliveryTo('a/b'))
    expect(one.got).toEqual(['a/b'])
    expect(other.got).toEqual(['a/b'])
  })

  test('add skips what is held and returns only what it added; remove takes one selector of several', () => {
    const registry = new Registry()
    const subscriber = recorder()
    expect(registry.add(subscriber, selectors('a/*', 'b')).map((s) => s.source)).toEqual(['a/*', 'b'])
    expect(registry.add(subscriber, selectors('a/*', 'b', 'c/**')).map((s) => s.source)).toEqual(['c/**'])
    expect(registry.selectorCount).toBe(3)
    expect(registry.remove(subscriber, ['a/*', 'not-held'])).toBe(1)
    registry.deliver(deliveryTo('a/x'))
    registry.deliver(deliveryTo('b'))
    registry.deliver(deliveryTo('c/y'))
    expect(subscriber.got).toEqual(['b', 'c/y'])
    expect(registry.size).toBe(1)
    expect(registry.remove(subscriber)).toBe(2)
    expect(registry.size).toBe(0)
    expect(registry.selectorCount).toBe(0)
    expect(registry.patternCount).toBe(0)
  })

  test('a pattern held by two subscribers stays until the last lets go', () => {
    const registry = new Registry()
    const [one, two, three] = [recorder(), recorder(), recorder()]
    for (const subscriber of [one, two, three]) registry.add(subscriber, selectors('p/*'))
    expect(registry.patternCount).toBe(1)
    registry.remove(two, ['p/*'])
    registry.deliver(deliveryTo('p/1'))
    registry.remove(one)
    registry.deliver(deliveryTo('p/2'))
    expect([one.got, two.got, three.got]).toEqual([['p/1'], [], ['p/1', 'p/2']])
    registry.remove(three)
    expect(registry.patternCount).toBe(0)
  })

  test('a subscriber that removes itself while being handed an event does not disturb the others', () => {
    const registry = new Registry()
    const others = [recorder(), recorder()]
    const leaving: Subscriber = { receive: () => registry.remove(leaving) }
    registry.add(others[0] as Subscriber, selectors('t/*'))
    registry.add(leaving, selectors('t/*', 't/x'))
    registry.add(others[1] as Subscriber, selectors('t/*'))
    registry.deliver(deliveryTo('t/x'))
    expect(others.map((o) => o.got)).toEqual([['t/x'], ['t/x']])
    expect(registry.size).toBe(2)
  })
})

describe('pattern index', () => {
  test('frees the nodes a removed pattern used, and keeps those another pattern shares', () => {
    const index = new PatternIndex<string>()
    index.set('a/b/*/d', 'one')
    index.set('a/b/**', 'two')
    index.set('a/*', 'three')
    expect(index.size).toBe(3)
    expect(index.delete('a/b/*/d')).toBe(true)
    expect(index.delete('a/b/*/d')).toBe(false)
    expect(index.get('a/b/**')).toBe('two')
    const seen: string[] = []
    index.match('a/b', (value) => void seen.push(value))
    index.match('a/b/c/d', (value) => void seen.push(value))
    expect(seen).toEqual(['three', 'two'])
    index.delete('a/b/**')
    index.delete('a/*')
    expect(index.size).toBe(0)
    // Nothing is left to walk: the root has no children.
    expect(JSON.stringify(index)).toBe('{"root":{},"count":0}')
  })

  test('matching stops when the visitor answers true', () => {
    const index = new PatternIndex<number>()
    for (const [i, pattern] of ['x/*', 'x/**', '*/y', '**'].entries()) index.set(pattern, i)
    const seen: number[] = []
    expect(index.match('x/y', (value) => (seen.push(value), true))).toBe(true)
    expect(seen.length).toBe(1)
  })
})

/** A random selector over a three-letter alphabet, so overlaps are frequent. */
function randomSelector(rng: Rng): string {
  const segments = Array.from({ length: rng.int(1, 4) }, () => rng.pick(['a', 'b', 'c', '*', '*']))
  if (rng.chance(0.3)) segments.push('**')
  return segments.join('/')
}

function randomTopic(rng: Rng): string {
  return Array.from({ length: rng.int(1, 5) }, () => rng.pick(['a', 'b', 'c'])).join('/')
}

test(`random selector sets with add/remove churn: each event reaches exactly the matching subscribers, once (seed ${SEED})`, () => {
  const rng = new Rng(SEED ^ 0x7e61)
  const registry = new Registry()
  const subscribers = Array.from({ length: 12 }, () => ({ ...recorder(), held: new Set<string>() }))
  const failures: string[] = []
  for (let round = 0; round < 400; round++) {
    for (const subscriber of subscribers) {
      if (rng.chance(0.5)) {
        // Duplicates within one add, and sources already held, on purpose.
        const sources = Array.from({ length: rng.int(1, 6) }, () => randomSelector(rng))
        const added = registry.add(subscriber, selectors(...new Set(sources))).map((s) => s.source)
        const expected = [...new Set(sources)].filter((source) => !subscriber.held.has(source))
        if (JSON.stringify(added) !== JSON.stringify(expected)) failures.push(`round ${round}: add returned ${added}, expected ${expected}`)
        for (const source of sources) subscriber.held.add(source)
      } else if (rng.chance(0.6)) {
        const gone = [...subscriber.held].filter(() => rng.chance(0.4))
        gone.push(randomSelector(rng))
        const removed = registry.remove(subscriber, gone)
        const expected = new Set(gone.filter((source) => subscriber.held.has(source))).size
        if (removed !== expected) failures.push(`round ${round}: remove returned ${removed}, expected ${expected}`)
        for (const source of gone) subscriber.held.delete(source)
      } else if (rng.chance(0.1)) {
        registry.remove(subscriber)
        subscriber.held.clear()
      }
    }
    for (let i = 0; i < 5; i++) {
      const topic = randomTopic(rng)
      for (const subscriber of subscribers) subscriber.got.length = 0
      registry.deliver(deliveryTo(topic))
      for (const [n, subscriber] of subscribers.entries()) {
        const expected = [...subscriber.held].some((selector) => referenceMatches(selector, topic)) ? 1 : 0
        // The compiled selector (topics.ts) must agree with the reference too.
        const compiled = [...subscriber.held].some((selector) => parseSelector(selector).matches(topic)) ? 1 : 0
        if (subscriber.got.length !== expected || compiled !== expected || registry.covers(subscriber, topic) !== (expected === 1)) {
          failures.push(`round ${round}: ${topic} reached subscriber ${n} ${subscriber.got.length}× (expected ${expected}, regex ${compiled}); it holds ${[...subscriber.held].join(' ')}`)
        }
      }
    }
    const held = subscribers.reduce((sum, subscriber) => sum + subscriber.held.size, 0)
    if (registry.selectorCount !== held) failures.push(`round ${round}: selectorCount ${registry.selectorCount}, expected ${held}`)
    if (failures.length > 5) break
  }
  expect(failures).toEqual([])
  for (const subscriber of subscribers) registry.remove(subscriber)
  expect([registry.size, registry.selectorCount, registry.patternCount]).toEqual([0, 0, 0])
})

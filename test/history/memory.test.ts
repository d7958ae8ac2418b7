import { expect, test } from 'bun:test'
import { MemoryHistory } from '../../src/history/memory'
import type { HubEvent } from '../../src/hub/event'
import { type EventId, formatEventId } from '../../src/hub/id'

function event(topic: string, ms: number, seq = 0): HubEvent {
  const position: EventId = { ms, seq }
  return { id: formatEventId(position), position, topic, data: `${topic}@${ms}`, json: false, time: ms }
}

const all = () => true
const ids = (events: HubEvent[]) => events.map((e) => e.id)

test('replays events after a position, across topics, in id order', () => {
  const history = new MemoryHistory({ perTopic: 10, maxTopics: 10, startedAt: { ms: 0, seq: 0 } })
  history.append([event('a', 1), event('b', 2), event('a', 3), event('c', 4)])
  const found = history.since({ ms: 1, seq: 0 }, (topic) => topic !== 'c', 100)
  expect(found.complete).toBe(true)
  expect(ids(found.events)).toEqual(['2-0', '3-0'])
  expect(history.head()).toEqual({ ms: 4, seq: 0 })
})

test('a position older than what a topic retains is incomplete (a gap)', () => {
  const history = new MemoryHistory({ perTopic: 2, maxTopics: 10, startedAt: { ms: 0, seq: 0 } })
  history.append([event('a', 1), event('a', 2), event('a', 3), event('b', 4)])
  // a@1 was dropped: a client that saw nothing after 0 missed it.
  expect(history.since({ ms: 0, seq: 0 }, all, 100).complete).toBe(false)
  const fromOne = history.since({ ms: 1, seq: 0 }, all, 100)
  expect(fromOne.complete).toBe(true)
  expect(ids(fromOne.events)).toEqual(['2-0', '3-0', '4-0'])
  // Topic b never lost anything: resuming only b from long ago is complete.
  expect(history.since({ ms: 0, seq: 0 }, (topic) => topic === 'b', 100).complete).toBe(true)
  expect(history.stats()).toEqual({ topics: 2, events: 3 })
})

test('positions from before the store started are incomplete', () => {
  const history = new MemoryHistory({ perTopic: 10, maxTopics: 10, startedAt: { ms: 100, seq: 0 } })
  history.append([event('a', 101)])
  expect(history.since({ ms: 50, seq: 0 }, all, 100).complete).toBe(false)
  expect(history.since({ ms: 100, seq: 0 }, all, 100).complete).toBe(true)
})

test('past maxTopics the least recently published topic is dropped and older positions become incomplete', () => {
  const history = new MemoryHistory({ perTopic: 10, maxTopics: 2, startedAt: { ms: 0, seq: 0 } })
  history.append([event('a', 1), event('b', 2), event('a', 3), event('c', 4)])
  expect(history.stats()).toEqual({ topics: 2, events: 3 })
  expect(history.since({ ms: 1, seq: 0 }, all, 100).complete).toBe(false)
  expect(ids(history.since({ ms: 2, seq: 0 }, all, 100).events)).toEqual(['3-0', '4-0'])
})

test('more matches than the limit is incomplete', () => {
  const history = new MemoryHistory({ perTopic: 10, maxTopics: 10, startedAt: { ms: 0, seq: 0 } })
  history.append([event('a', 1), event('a', 2), event('a', 3)])
  const found = history.since({ ms: 0, seq: 0 }, all, 2)
  expect(found.complete).toBe(false)
})

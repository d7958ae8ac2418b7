/**
 * The Broker contract (src/hub/broker.ts), run against every implementation (memory.test.ts; a
 * Redis broker runs the same suite). Each test builds its broker with `make`, drives it only
 * through the Broker interface and the store it keeps batches in, and waits for what it expects
 * with a deadline rather than assuming announcements are synchronous.
 */
import { describe, expect, test } from 'bun:test'
import type { Broker } from '../../src/hub/broker'
import type { HubEvent, ValidatedInput } from '../../src/hub/event'
import type { HistoryStore } from '../../src/hub/history'
import { compareIds, type EventId, formatEventId, parseEventId, ZERO_ID } from '../../src/hub/id'
import { Rng } from '../hostile/prng'

/** Faults a test injects into the store behind the broker (see faulty-store.ts); a test may change them at any time. */
export interface BrokerFaults {
  /** Runs before a batch is kept: a throw or a rejection means the store failed (nothing kept); a promise makes it slow. */
  before?: (events: readonly HubEvent[]) => void | Promise<void>
}

export interface BrokerSetup {
  /** The broker's clock for ids (a pinned one in most tests). */
  now: () => number
  /** How far a publisher's id may be from `now`. */
  maxIdSkewMs: number
  /** Events the store holds before the broker starts (in id order). */
  seed: readonly HubEvent[]
  /** Read by the store on every append: the test sets and clears faults through it. */
  faults: BrokerFaults
}

export interface BrokerUnderTest {
  broker: Broker
  /** The store the broker keeps batches in, for reading back. */
  history: HistoryStore
  /** Frees everything `make` made (after the test closed the broker, or not). */
  dispose(): Promise<void>
}

const NOW = 1_764_135_000_000
const all = () => true

/** A validated input, as the hub hands it over. */
function input(topic: string, data: string, id?: EventId): ValidatedInput {
  return { topic, data, json: false, ...(id && { id }) }
}

function seedEvent(position: EventId, topic = 'seed'): HubEvent {
  return { id: formatEventId(position), position, topic, data: 'seed', json: false, time: position.ms }
}

function expectIncreasing(events: readonly HubEvent[]): void {
  for (let i = 1; i < events.length; i++) expect(compareIds((events[i - 1] as HubEvent).position, (events[i] as HubEvent).position)).toBeLessThan(0)
}

export function brokerContract(name: string, make: (setup: BrokerSetup) => BrokerUnderTest | Promise<BrokerUnderTest>): void {
  /** A broker with announcements recorded, and a helper to end it. */
  async function open(setup: Partial<BrokerSetup> = {}) {
    const full: BrokerSetup = { now: () => NOW, maxIdSkewMs: 1000, seed: [], faults: {}, ...setup }
    const made = await make(full)
    const announced: HubEvent[] = []
    /** The store's head when each batch was announced, with the batch's last id. */
    const keptWhenAnnounced: { head: EventId; last: EventId }[] = []
    made.broker.onDeliver((events) => {
      announced.push(...events)
      const last = events.at(-1)
      if (last) keptWhenAnnounced.push({ head: made.history.head(), last: last.position })
    })
    return { ...made, faults: full.faults, announced, keptWhenAnnounced }
  }

  describe(`Broker contract: ${name}`, () => {
    test('ids increase and parse back; publish resolves with what was announced, after announcing it', async () => {
      const { broker, announced, dispose } = await open({ now: Date.now })
      const published: HubEvent[] = []
      for (let batch = 0; batch < 5; batch++) {
        const events = await broker.publish([input('a', `${batch}.0`), input('b/c', `${batch}.1`), input('a', `${batch}.2`)])
        // Resolved only once this node had it delivered.
        expect(announced.slice(-3)).toEqual(events)
        published.push(...events)
      }
      expect(announced).toEqual(published)
      expect(published.map((e) => `${e.topic}:${e.data}`)).toEqual(Array.from({ length: 5 }, (_, b) => [`a:${b}.0`, `b/c:${b}.1`, `a:${b}.2`]).flat())
      expectIncreasing(published)
      for (const event of published) {
        expect(formatEventId(parseEventId(event.id))).toBe(event.id)
        expect(event.position).toEqual(parseEventId(event.id))
      }
      expect(broker.head()).toEqual((published.at(-1) as HubEvent).position)
      await broker.close()
      await dispose()
    })

    test('head starts at what the store holds, and new ids come after it', async () => {
      const held = { ms: NOW + 500, seq: 7 }
      const { broker, dispose } = await open({ seed: [seedEvent({ ms: NOW - 5, seq: 0 }), seedEvent(held)] })
      expect(broker.head()).toEqual(held)
      // The clock (NOW) is behind the store's newest id: ids continue after it, not from the clock.
      const [next] = await broker.publish([input('a', 'after')])
      expect(next?.id).toBe(`${NOW + 500}-8`)
      await broker.close()
      await dispose()
    })

    test('an empty store has head ZERO_ID', async () => {
      const { broker, dispose } = await open()
      expect(broker.head()).toEqual(ZERO_ID)
      await broker.close()
      await dispose()
    })

    test("a publisher's id is kept when newer than every id and within the skew; a refused batch uses no id", async () => {
      const { broker, announced, dispose } = await open()
      const [first] = await broker.publish([input('t', 'auto')])
      expect(first?.id).toBe(`${NOW}-0`)
      // At the edge of the skew: kept as is.
      const [edge] = await broker.publish([input('t', 'edge', { ms: NOW + 1000, seq: 0 })])
      expect(edge?.id).toBe(`${NOW + 1000}-0`)
      // Not newer than the last id.
      await expect(broker.publish([input('t', 'same', { ms: NOW + 1000, seq: 0 })])).rejects.toMatchObject({ code: 'id_not_increasing' })
      await expect(broker.publish([input('t', 'older', { ms: NOW, seq: 5 })])).rejects.toMatchObject({ code: 'id_not_increasing' })
      // One past the skew, second in its batch: the whole batch is refused and its first id given back.
      await expect(broker.publish([input('t', 'a'), input('t', 'far', { ms: NOW + 1001, seq: 9 })])).rejects.toMatchObject({ code: 'invalid_id' })
      await expect(broker.publish([input('t', 'past', { ms: NOW - 1001, seq: 0 })])).rejects.toMatchObject({ code: 'id_not_increasing' })
      expect(broker.head()).toEqual({ ms: NOW + 1000, seq: 0 })
      const [next] = await broker.publish([input('t', 'next')])
      expect(next?.id).toBe(`${NOW + 1000}-1`)
      expect(announced.map((e) => e.data)).toEqual(['auto', 'edge', 'next'])
      await broker.close()
      await dispose()
    })

    test('a batch is announced only once the store holds it', async () => {
      const { broker, keptWhenAnnounced, history, faults, dispose } = await open({ now: Date.now })
      await broker.publish([input('a', '1'), input('b', '2')])
      faults.before = () => Bun.sleep(5)
      await Promise.all([broker.publish([input('a', '3')]), broker.publish([input('c', '4'), input('a', '5')])])
      expect(keptWhenAnnounced).toHaveLength(3)
      for (const { head, last } of keptWhenAnnounced) expect(compareIds(head, last)).toBeGreaterThanOrEqual(0)
      expect((await history.since(ZERO_ID, all, 100)).events.map((e) => e.data)).toEqual(['1', '2', '3', '4', '5'])
      await broker.close()
      await dispose()
    })

    for (const how of ['throws', 'rejects'] as const) {
      test(`when the store ${how}, the publish fails with store_unavailable, nothing is announced and no id is used`, async () => {
        const { broker, announced, history, faults, dispose } = await open()
        await broker.publish([input('t', 'kept')])
        faults.before = how === 'throws' ? () => { throw new Error('disk full') } : () => Promise.reject(new Error('connection reset'))
        const mine = { ms: NOW + 10, seq: 0 }
        await expect(broker.publish([input('t', 'lost'), input('t', 'lost too', mine)])).rejects.toMatchObject({ code: 'store_unavailable' })
        await expect(broker.publish([input('u', 'lost again')])).rejects.toMatchObject({ code: 'store_unavailable' })
        expect(broker.head()).toEqual({ ms: NOW, seq: 0 })
        faults.before = undefined
        // The publisher may retry with the same id: the failed batch did not use it.
        const [auto, retried] = await broker.publish([input('t', 'again'), input('t', 'mine', mine)])
        expect(auto?.id).toBe(`${NOW}-1`)
        expect(retried?.id).toBe(formatEventId(mine))
        expect(announced.map((e) => e.data)).toEqual(['kept', 'again', 'mine'])
        expect((await history.since(ZERO_ID, all, 100)).events.map((e) => e.data)).toEqual(['kept', 'again', 'mine'])
        await broker.close()
        await dispose()
      })
    }

    test('overlapping publishes to a slow, sometimes failing store are kept and announced in id order, once each', async () => {
      const rng = new Rng(0xb0c3)
      const { broker, announced, history, faults, dispose } = await open({ now: Date.now })
      let calls = 0
      faults.before = () => {
        calls++
        const fail = calls % 7 === 0
        // A mix of synchronous and slow appends, so the fast path and the queue meet.
        if (rng.chance(0.3)) {
          if (fail) throw new Error('flaky')
          return
        }
        return Bun.sleep(rng.int(0, 4)).then(() => {
          if (fail) throw new Error('flaky')
        })
      }
      const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => broker.publish([input(`t/${i % 3}`, `${i}.0`), input('u', `${i}.1`)])))
      const kept = results.flatMap((result) => (result.status === 'fulfilled' ? result.value : []))
      const failed = results.filter((result) => result.status === 'rejected')
      expect(failed.length).toBeGreaterThan(0)
      for (const result of failed) expect((result as PromiseRejectedResult).reason).toMatchObject({ code: 'store_unavailable' })
      // In call order, in id order, each once; failures left no gap-filling or duplicate behind.
      expect(announced).toEqual(kept)
      expectIncreasing(announced)
      expect((await history.since(ZERO_ID, all, 1000)).events).toEqual(kept)
      await broker.close()
      await dispose()
    })

    test('close refuses new publishes, waits for the ones accepted, and announces nothing after', async () => {
      const { broker, announced, faults, dispose } = await open({ now: Date.now })
      let release = () => {}
      faults.before = () => new Promise<void>((resolve) => (release = resolve))
      let settled = false
      const inFlight = broker.publish([input('t', 'in flight')]).finally(() => (settled = true))
      const closing = Promise.resolve(broker.close())
      await expect(broker.publish([input('t', 'too late')])).rejects.toMatchObject({ code: 'shutting_down' })
      let closed = false
      void closing.then(() => (closed = true))
      await Bun.sleep(5)
      expect(closed).toBe(false)
      release()
      await closing
      expect(settled).toBe(true)
      expect((await inFlight).map((e) => e.data)).toEqual(['in flight'])
      expect(announced.map((e) => e.data)).toEqual(['in flight'])
      await broker.close()
      expect(announced).toHaveLength(1)
      await dispose()
    })
  })
}

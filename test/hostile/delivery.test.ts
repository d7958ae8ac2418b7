/**
 * Delivery through a store that is slow, fails, or acknowledges late, generated from a seed: random
 * interleavings of publish batches (some by principals that may not publish to every topic, some
 * with private events only some principals may see) and resumes through random selectors by random
 * principals, started while appends are in flight. Checked against a plain model: the events whose
 * publish resolved, in id order. Each subscriber must get exactly those after its position on its
 * selectors (of the private ones: those its principal may see), in id order, once; a failed or refused publish must reach
 * nobody and leave nothing in the store. HOSTILE_SEED=<n> replays another run.
 */
import { expect, test } from 'bun:test'
import { MemoryBroker } from '../../src/broker/memory'
import { MemoryHistory } from '../../src/history/memory'
import type { HubEvent, PublishInput } from '../../src/hub/event'
import { Hub } from '../../src/hub/hub'
import { compareIds, ZERO_ID } from '../../src/hub/id'
import { ALLOW_ALL, type Principal } from '../../src/hub/principal'
import type { Subscription } from '../../src/hub/subscription'
import { parseSelector } from '../../src/hub/topics'
import { FaultyStore } from '../broker/faulty-store'
import { Rng, SEED } from './prng'

const SCENARIOS = 60
const STEPS = 40
const TOPICS = ['a', 'b/1', 'b/2', 'users/ada/x', 'users/bob/x', 'users/ada/y/z']
const SELECTORS = [...TOPICS, 'b/*', 'users/**', 'users/*/x', '**']
const MODES = ['synchronous', 'slow', 'late acknowledgement', 'flaky'] as const

/** A principal limited to one user's topics, seeing nothing else through wider wildcards. */
function user(name: string): Principal {
  const mine = (topic: string) => topic.startsWith(`users/${name}/`)
  return { subject: name, seesEverything: false, mayPublish: mine, maySubscribe: (selector) => selector.source === 'users/**' || mine(selector.source), maySee: (event) => mine(event.topic) }
}
const GUEST: Principal = { ...ALLOW_ALL, subject: 'guest', seesEverything: false, maySee: () => false }
const PRINCIPALS = [ALLOW_ALL, ALLOW_ALL, user('ada'), user('bob'), GUEST]

interface Reader {
  subscription: Subscription
  principal: Principal
  after: string
}

async function scenario(rng: Rng): Promise<string[]> {
  const problems: string[] = []
  const mode = rng.pick(MODES)
  const store = new FaultyStore(new MemoryHistory({ perTopic: 10_000, maxTopics: 100, startedAt: ZERO_ID }))
  const delay = () => (rng.chance(0.4) ? undefined : Bun.sleep(rng.int(0, 2)))
  if (mode === 'slow') store.faults.before = delay
  if (mode === 'late acknowledgement') store.faults.after = delay
  if (mode === 'flaky') {
    store.faults.before = () => {
      if (!rng.chance(0.25)) return delay()
      if (rng.chance(0.5)) throw new Error('flaky store')
      return Bun.sleep(rng.int(0, 2)).then(() => Promise.reject(new Error('flaky store')))
    }
  }
  store.faults.since = delay
  const hub = new Hub({ history: store, broker: new MemoryBroker(store), maxDataBytes: 0, queueLimit: 100_000, maxReplay: 100_000, maxSelectors: 10 })
  const kept: HubEvent[] = []
  const publishes: Promise<unknown>[] = []
  const subscribes: Promise<unknown>[] = []
  const readers: Reader[] = []

  for (let step = 0; step < STEPS; step++) {
    const action = rng.int(0, 9)
    if (action < 6) {
      const principal = rng.pick(PRINCIPALS)
      const inputs: PublishInput[] = Array.from({ length: rng.int(1, 3) }, (_, i) => ({ topic: rng.pick(TOPICS), data: `${step}.${i}`, ...(rng.chance(0.3) && { private: true }) }))
      const allowed = inputs.every((input) => principal.mayPublish(input.topic))
      publishes.push(
        hub.publish(inputs, principal).then(
          (events) => {
            if (!allowed) problems.push(`step ${step}: a forbidden batch was published`)
            kept.push(...events)
          },
          (error: { code?: string }) => {
            const expected = !allowed ? 'forbidden_topic' : mode === 'flaky' ? 'store_unavailable' : 'none'
            if (error.code !== expected) problems.push(`step ${step}: publish failed with ${error.code ?? String(error)}, expected ${expected}`)
          },
        ),
      )
    } else if (action < 9) {
      const principal = rng.pick(PRINCIPALS)
      const selectors = Array.from({ length: rng.int(1, 2) }, () => parseSelector(rng.pick(SELECTORS)))
      const allowed = selectors.every((selector) => principal.maySubscribe(selector))
      // A position the client could hold: the start, or an event already kept.
      const from = kept.length > 0 && rng.chance(0.7) ? (rng.pick(kept).id) : '0-0'
      subscribes.push(
        hub.subscribe(selectors, { principal, lastEventId: from }).then(
          (subscription) => {
            if (!allowed) problems.push(`step ${step}: a forbidden subscribe was accepted`)
            readers.push({ subscription, principal, after: from })
          },
          (error: { code?: string }) => {
            if (allowed || error.code !== 'forbidden_topic') problems.push(`step ${step}: subscribe failed with ${error.code ?? String(error)}`)
          },
        ),
      )
    } else {
      await Bun.sleep(rng.int(0, 2))
    }
  }
  await Promise.all([...publishes, ...subscribes])
  kept.sort((x, y) => compareIds(x.position, y.position))
  const stored = await store.since(ZERO_ID, () => true, 100_000)
  if (stored.events.map((e) => e.id).join() !== kept.map((e) => e.id).join()) problems.push(`the store holds ${stored.events.length} events, ${kept.length} publishes resolved`)
  for (const [n, { subscription, principal, after }] of readers.entries()) {
    const position = after === '0-0' ? ZERO_ID : (kept.find((e) => e.id === after) as HubEvent).position
    const wanted = kept.filter((e) => compareIds(e.position, position) > 0 && subscription.selectors.some((s) => s.matches(e.topic)) && (e.private !== true || principal.maySee(e))).map((e) => e.id)
    const got: string[] = []
    while (subscription.queued > 0) got.push(...((await subscription.next()) ?? []).map((delivery) => delivery.event.id))
    if (subscription.resetTo !== undefined) problems.push(`reader ${n}: reset`)
    if (got.join() !== wanted.join()) {
      problems.push(`reader ${n} (${mode}, ${principal.subject ?? 'anyone'}, ${subscription.selectors.map((s) => s.source).join('+')} after ${after}): got [${got.join(' ')}], wanted [${wanted.join(' ')}]`)
    }
    subscription.end()
  }
  await hub.close()
  return problems
}

test(`random publishes and resumes through slow, failing and late stores deliver what was kept, once, in order, to whom may see it (seed ${SEED})`, async () => {
  const rng = new Rng(SEED ^ 0xde11)
  const problems: string[] = []
  for (let i = 0; i < SCENARIOS && problems.length === 0; i++) problems.push(...(await scenario(rng)).map((problem) => `scenario ${i}: ${problem}`))
  expect(problems).toEqual([])
})

/**
 * The "render at the head, then subscribe from it" pattern of a host app (examples/orders), from a
 * seed: fresh Heralds (memory or sqlite store) take random turns of publishing to random topics,
 * handing out `herald.head` (often before anything was published, and across a restart of a sqlite
 * store), and subscribing from a head handed out earlier through random selectors. Checked against
 * a plain list of what was published:
 * - from any head this Herald handed out: no reset, and exactly the events after it on matching
 *   topics, in order, then live ones;
 * - from a position older than this Herald's history (before a memory store's start): a reset,
 *   first and at once, then live events.
 * A sentinel publish ends each read, so nothing waits on silence. HOSTILE_SEED=<n> replays another run.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoreSpec } from '../../src/config'
import { herald, type HeraldApi, type HeraldItem } from '../../src/index'
import { Rng, SEED } from './prng'

const SCENARIOS = 150
const STEPS = 30
const TOPICS = ['o/1', 'o/2', 'o/3/x', 'p']
const SELECTORS = [...TOPICS, 'o/*', 'o/**', '**']

interface Published {
  id: string
  topic: string
  data: string
}

const scratch = mkdtempSync(join(tmpdir(), 'herald-plugin-resume-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

function matches(selector: string, topic: string): boolean {
  if (selector === '**') return true
  if (selector.endsWith('/**')) return topic.startsWith(selector.slice(0, -2))
  if (selector.endsWith('/*')) return topic.startsWith(selector.slice(0, -1)) && !topic.slice(selector.length - 1).includes('/')
  return selector === topic
}

/**
 * Everything a subscription from `lastEventId` yields up to and including a sentinel published
 * after it started. With `resetFirst` the first item must come before that publish: a reset is
 * handed out at once, not with the next event.
 */
async function readUntilSentinel(api: HeraldApi, selector: string, lastEventId: string, rng: Rng, resetFirst = false): Promise<{ items: HeraldItem[]; sentinel: Published }> {
  const subscription = api.subscribe(selector, { lastEventId })
  const items: HeraldItem[] = []
  let next = subscription.next()
  if (resetFirst) {
    const first = await Promise.race([next, Bun.sleep(2000).then(() => 'nothing within 2 s' as const)])
    if (first === 'nothing within 2 s' || first.done) throw new Error(`no reset at once from ${lastEventId}: ${JSON.stringify(first)}`)
    items.push(first.value)
    next = subscription.next()
  }
  const topic = TOPICS.find((candidate) => matches(selector, candidate)) ?? 'p'
  const data = `sentinel ${rng.int(0, 1e9)}`
  const { id } = await api.publish(topic, data)
  const sentinel = { id, topic, data }
  const deadline = Date.now() + 5000
  for (;;) {
    const result = await Promise.race([next, Bun.sleep(Math.max(0, deadline - Date.now())).then(() => 'late' as const)])
    if (result === 'late') throw new Error(`no sentinel from ${selector} after ${lastEventId} within 5 s; got ${JSON.stringify(items)}`)
    if (result.done) throw new Error(`the subscription ended before the sentinel: ${JSON.stringify(items)}`)
    items.push(result.value)
    if (result.value.type === 'event' && result.value.id === id) break
    next = subscription.next()
  }
  await subscription.return()
  return { items, sentinel }
}

const simplify = (items: HeraldItem[]) => items.map((item) => (item.type === 'reset' ? 'reset' : `${item.id} ${item.topic} ${String(item.data)}`))
const expected = (events: Published[]) => events.map((event) => `${event.id} ${event.topic} ${event.data}`)

test(`${SCENARIOS} fresh Heralds: every head handed out resumes with exactly the events after it, never a reset (seed ${SEED})`, async () => {
  const rng = new Rng(SEED ^ 0x6ead)
  let resets = 0
  let resumes = 0
  for (let scenario = 0; scenario < SCENARIOS; scenario++) {
    const file = join(scratch, `s${scenario}.db`)
    const store = rng.pick<StoreSpec>(['memory', `sqlite:${file}`])
    let realtime = herald({ store })
    const log: Published[] = []
    const heads: { head: string; at: number }[] = []
    const restartAt = store.startsWith('sqlite:') && rng.chance(0.5) ? rng.int(1, STEPS - 1) : -1
    try {
      for (let step = 0; step < STEPS; step++) {
        if (step === restartAt) {
          // A durable store keeps its history across a restart: heads from before still resume.
          await realtime.herald.shutdown(1000)
          realtime = herald({ store })
        }
        const action = rng.int(0, 9)
        if (action < 3 || (action < 6 && step === 0)) {
          heads.push({ head: realtime.herald.head, at: log.length })
        } else if (action < 7) {
          for (let n = rng.int(1, 3); n > 0; n--) {
            const topic = rng.pick(TOPICS)
            const data = rng.chance(0.3) ? `line ${step}\nline ${n}` : `e${step}.${n}`
            const { id } = await realtime.herald.publish(topic, data)
            log.push({ id, topic, data })
          }
        } else if (heads.length > 0) {
          const { head, at } = rng.pick(heads)
          const selector = rng.pick(SELECTORS)
          const { items, sentinel } = await readUntilSentinel(realtime.herald, selector, head, rng)
          const missed = log.slice(at).filter((event) => matches(selector, event.topic))
          log.push(sentinel)
          expect({ scenario, store, head, selector, got: simplify(items) }).toEqual({ scenario, store, head, selector, got: expected([...missed, sentinel]) })
          resumes++
        }
      }
      // A position from before this Herald's history: a reset, first, without waiting for an event.
      if (store === 'memory') {
        const stale = `${rng.int(0, Date.now() - 120_000)}-${rng.int(0, 5)}`
        const selector = rng.pick(TOPICS)
        const { items, sentinel } = await readUntilSentinel(realtime.herald, selector, stale, rng, true)
        expect(simplify(items)).toEqual(['reset', ...expected([sentinel])])
        resets++
      }
    } finally {
      await realtime.herald.shutdown(1000)
    }
  }
  expect(resumes).toBeGreaterThan(SCENARIOS)
  expect(resets).toBeGreaterThan(SCENARIOS / 4)
}, 60_000)

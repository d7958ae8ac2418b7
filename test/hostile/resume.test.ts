/**
 * Resumes against a history that keeps changing under them, generated from a seed: random
 * interleavings of publishes to many topics, evictions (tiny per-topic limits), topic drops (a tiny
 * topic limit) and TTL expiry, with resumes from random positions through random selectors, one
 * to three at once, while the same kinds of changes happen between their slices. Each answer is
 * checked against a plain reference model of retention:
 * - complete → exactly the events after the position on matching topics, up to the newest id at
 *   the call, in id order;
 * - incomplete → only when something was lost: the position was older than what was retained, a
 *   matching topic had lost an event after it, more than `limit` matched (then the oldest `limit`),
 *   or an event it still had to return was removed while it ran; and what it returned is an
 *   id-ordered beginning of the answer.
 * Both stores (sqlite by each of its two read plans), so they agree. HOSTILE_SEED=<n> replays another run.
 */
import { expect, test } from 'bun:test'
import { MemoryHistory } from '../../src/history/memory'
import { SqliteHistory } from '../../src/history/sqlite'
import type { HistoryStore } from '../../src/history/store'
import type { HubEvent } from '../../src/hub/event'
import { formatEventId, ZERO_ID } from '../../src/hub/id'
import { parseSelector } from '../../src/hub/topics'
import { Rng, SEED } from './prng'
import { judge, Reference, type Resume } from './retention-model'

const SCENARIOS = 250
const STEPS = 40
const TOPICS = ['a', 'b', 'c/1', 'c/2', 'c/3/x', 'd', 'e/f']
const SELECTORS = [...TOPICS, 'c/*', 'c/**', '**', '*', 'e/*', 'nothing']

type Store = HistoryStore & { expire(): boolean }

type Kind = 'memory' | 'sqlite, scan' | 'sqlite, windows'

async function scenario(kind: Kind, rng: Rng, n: number): Promise<string[]> {
  const failures: string[] = []
  const perTopic = rng.int(1, 6)
  const maxTopics = rng.int(1, TOPICS.length + 1)
  const ttlMs = rng.chance(0.4) ? rng.int(20, 120) : 0
  const page = rng.int(1, 5)
  let clock = 1_000
  let seq = 0
  const published: HubEvent[] = []
  const reference = new Reference(perTopic, maxTopics, kind !== 'memory')
  const running = new Set<Resume>()
  let pauseChance = 0

  const removedMeanwhile = (removed: HubEvent[]) => {
    for (const resume of running) resume.removed.push(...removed)
  }
  const publish = () => {
    clock += rng.int(0, 10)
    const batch = Array.from({ length: rng.int(1, 4) }, () => {
      const position = { ms: clock, seq: seq++ }
      const event: HubEvent = { id: formatEventId(position), position, topic: rng.pick(TOPICS), data: `#${seq}`, json: false, time: clock }
      return event
    })
    store.append(batch)
    published.push(...batch)
    removedMeanwhile(reference.append(batch))
  }
  const expire = () => {
    clock += rng.int(0, 40)
    while (store.expire()) {}
    if (ttlMs > 0) removedMeanwhile(reference.expire(clock - ttlMs))
  }
  const options = {
    perTopic,
    maxTopics,
    startedAt: ZERO_ID,
    ttlMs,
    now: () => clock,
    replayPage: page,
    replayPause: async () => {
      if (rng.chance(pauseChance)) {
        for (let i = rng.int(1, 2); i > 0; i--) rng.chance(0.7) ? publish() : expire()
      }
      await Promise.resolve()
    },
  }
  const store: Store = kind === 'memory' ? new MemoryHistory(options) : new SqliteHistory({ path: ':memory:', ...options, replayPlan: kind === 'sqlite, scan' ? 'scan' : 'windows' })

  try {
    for (let step = 0; step < STEPS; step++) {
      const action = rng.next()
      if (action < 0.55) publish()
      else if (action < 0.7) expire()
      else {
        pauseChance = rng.pick([0, 0.3, 0.8])
        const resumes = Array.from({ length: rng.int(1, 3) }, () => {
          const selectors = Array.from({ length: rng.int(1, 3) }, () => parseSelector(rng.pick(SELECTORS)))
          const accepts = (topic: string) => selectors.some((selector) => selector.matches(topic))
          const named = selectors.some((selector) => selector.isPattern) ? undefined : selectors.map((selector) => selector.source)
          const pick = rng.next()
          const after = pick < 0.15 || published.length === 0 ? ZERO_ID : pick < 0.25 ? reference.newest : (rng.pick(published) as HubEvent).position
          const limit = rng.int(1, 12)
          const { events, gap } = reference.answer(after, accepts)
          const resume: Resume = { label: `${kind} scenario #${n} step ${step}: since ${formatEventId(after)} [${selectors.map((s) => s.source).join(' ')}] limit ${limit}`, after, limit, expected: events, gap, removed: [] }
          running.add(resume)
          const answer = Promise.resolve(store.since(after, accepts, limit, named)).finally(() => running.delete(resume))
          return { resume, answer }
        })
        for (const { resume, answer } of resumes) {
          const found = await answer
          const wrong = judge(resume, found)
          if (wrong) failures.push(`${resume.label}: ${wrong}`)
        }
      }
    }
  } finally {
    await store.close()
  }
  return failures
}

for (const [kind, salt] of [['memory', 0x7e5], ['sqlite, scan', 0x5c1], ['sqlite, windows', 0x3d7]] as const) {
  test(`${SCENARIOS} scenarios of resumes against a changing history (${kind} store, seed ${SEED})`, async () => {
    const rng = new Rng(SEED ^ salt)
    const failures: string[] = []
    for (let n = 0; n < SCENARIOS; n++) failures.push(...(await scenario(kind, rng, n)))
    expect(failures.slice(0, 10)).toEqual([])
  }, 60_000)
}

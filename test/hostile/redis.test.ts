/**
 * Redis, generated from a seed (HOSTILE_SEED=<n> replays another run). Two families:
 *
 * 1. Resumes against a Redis history that keeps changing under them: random publishes to many
 *    topics with tiny per-topic and topic limits and a TTL, resumes from random positions through
 *    random selectors (named topics read atomically, patterns listed), one to three at once, with
 *    publishes and expiry between their reads. Judged against the retention model every store
 *    shares (retention-model.ts): complete exactly when nothing after the position was lost.
 *
 * 2. A cluster in one process: two or three hubs on one Redis prefix, each node's log reader
 *    lagging by a random few milliseconds, some writes failing before they reach Redis, publishes
 *    from random nodes by random principals (some private events), subscribes on random nodes from
 *    positions other nodes handed out (often ones this node has not read yet). Every subscriber must
 *    get exactly the acknowledged events after its position that it may see, in id order, once,
 *    and never a reset; a failed publish reaches nobody.
 */
import { afterAll, expect, test } from 'bun:test'
import { RedisBroker } from '../../src/broker/redis'
import { RedisHistory } from '../../src/history/redis'
import type { HubEvent, PublishInput } from '../../src/hub/event'
import { Hub } from '../../src/hub/hub'
import { compareIds, formatEventId, ZERO_ID } from '../../src/hub/id'
import { ALLOW_ALL, type Principal } from '../../src/hub/principal'
import type { Subscription } from '../../src/hub/subscription'
import { parseSelector } from '../../src/hub/topics'
import { RedisLink, type RedisCommands } from '../../src/redis/link'
import { APPEND, type LuaScript } from '../../src/redis/scripts'
import { waitFor } from '../helpers'
import { connectedLink, deleteKeys, REDIS_URL, uniquePrefix } from '../redis/redis'
import { Rng, SEED } from './prng'
import { judge, Reference, type Resume } from './retention-model'

const prefixes: string[] = []
afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(prefix)
})

function prefix(name: string): string {
  const made = uniquePrefix(name)
  prefixes.push(made)
  return made
}

const TOPICS = ['a', 'b', 'c/1', 'c/2', 'c/3/x', 'd', 'e/f']
const SELECTORS = [...TOPICS, 'c/*', 'c/**', '**', '*', 'e/*', 'nothing']

async function resumeScenario(link: RedisLink, rng: Rng, n: number): Promise<string[]> {
  const failures: string[] = []
  const perTopic = rng.int(1, 6)
  const maxTopics = rng.int(1, TOPICS.length + 1)
  const ttlMs = rng.chance(0.4) ? rng.int(20, 120) : 0
  const page = rng.int(1, 5)
  let clock = 1_000
  let seq = 0
  const published: HubEvent[] = []
  const reference = new Reference(perTopic, maxTopics, true)
  const running = new Set<Resume>()
  let pauseChance = 0
  const removedMeanwhile = (removed: HubEvent[]) => {
    for (const resume of running) resume.removed.push(...removed)
  }
  const publish = async () => {
    clock += rng.int(0, 10)
    const batch = Array.from({ length: rng.int(1, 4) }, () => {
      const position = { ms: clock, seq: seq++ }
      const event: HubEvent = { id: formatEventId(position), position, topic: rng.pick(TOPICS), data: `#${seq}`, json: false, time: clock }
      return event
    })
    // The model first: a resume reading while the write runs may already see it removed.
    removedMeanwhile(reference.append(batch))
    published.push(...batch)
    await store.append(batch)
  }
  const expire = async () => {
    clock += rng.int(0, 40)
    if (ttlMs > 0) removedMeanwhile(reference.expire(clock - ttlMs))
    while (await store.expire()) {}
  }
  const store = new RedisHistory(link, {
    prefix: prefix('hostile-resume'),
    logSize: 1000,
    perTopic,
    maxTopics,
    startedAt: ZERO_ID,
    ttlMs,
    now: () => clock,
    replayPage: page,
    replayPause: async () => {
      if (!rng.chance(pauseChance)) return
      for (let i = rng.int(1, 2); i > 0; i--) await (rng.chance(0.7) ? publish() : expire())
    },
  })
  await store.start()
  try {
    for (let step = 0; step < 30; step++) {
      const action = rng.next()
      if (action < 0.55) await publish()
      else if (action < 0.7) await expire()
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
          const resume: Resume = { label: `scenario #${n} step ${step}: since ${formatEventId(after)} [${selectors.map((s) => s.source).join(' ')}] limit ${limit}`, after, limit, expected: events, gap, removed: [] }
          running.add(resume)
          return { resume, answer: store.since(after, accepts, limit, named).finally(() => running.delete(resume)) }
        })
        for (const { resume, answer } of resumes) {
          const wrong = judge(resume, await answer)
          if (wrong) failures.push(`${resume.label}: ${wrong}`)
        }
      }
    }
  } finally {
    store.close()
  }
  return failures
}

test(`Redis resumes against a changing history answer as the retention model says (seed ${SEED})`, async () => {
  const rng = new Rng(SEED ^ 0x7ed15)
  const link = await connectedLink()
  const failures: string[] = []
  try {
    for (let n = 0; n < 80 && failures.length === 0; n++) failures.push(...(await resumeScenario(link, rng, n)))
  } finally {
    link.close()
  }
  expect(failures.slice(0, 10)).toEqual([])
}, 60_000)

/** A principal limited to one user's topics, seeing nothing else through wider wildcards. */
function user(name: string): Principal {
  const mine = (topic: string) => topic.startsWith(`users/${name}/`)
  return { subject: name, seesEverything: false, mayPublish: mine, maySubscribe: (selector) => selector.source === 'users/**' || mine(selector.source), maySee: (event) => mine(event.topic) }
}
const PRINCIPALS = [ALLOW_ALL, ALLOW_ALL, user('ada'), user('bob')]
const CLUSTER_TOPICS = ['a', 'b/1', 'b/2', 'users/ada/x', 'users/bob/x', 'users/ada/y/z']
const CLUSTER_SELECTORS = [...CLUSTER_TOPICS, 'b/*', 'users/**', 'users/*/x', '**']

/** A log reader whose reads arrive a random few milliseconds late: a node a little behind the others. */
class LaggingReader extends RedisLink {
  constructor(
    url: string,
    private readonly rng: Rng,
  ) {
    super(url, { timeoutMs: 2000 })
  }

  override async send(command: string, args: string[], timeoutMs?: number): Promise<unknown> {
    const reply = await super.send(command, args, timeoutMs)
    if (command === 'XREAD' && reply !== null) await Bun.sleep(this.rng.int(0, 4))
    return reply
  }
}

/** Commands whose writes sometimes fail before they reach Redis. */
class FlakyWrites implements RedisCommands {
  constructor(
    private readonly inner: RedisCommands,
    private readonly fail: () => boolean,
  ) {}

  send(command: string, args: string[], timeoutMs?: number): Promise<unknown> {
    return this.inner.send(command, args, timeoutMs)
  }

  run(script: LuaScript, args: string[], timeoutMs?: number): Promise<unknown> {
    if (script === APPEND && this.fail()) return Promise.reject(new Error('flaky network'))
    return this.inner.run(script, args, timeoutMs)
  }
}

interface Reader {
  node: number
  subscription: Subscription
  principal: Principal
  after: string
}

async function clusterScenario(rng: Rng): Promise<string[]> {
  const problems: string[] = []
  const cluster = prefix('hostile-cluster')
  const flaky = rng.chance(0.5)
  const nodes = await Promise.all(
    Array.from({ length: rng.int(2, 3) }, async () => {
      const commands = new RedisLink(REDIS_URL, { timeoutMs: 2000 })
      const reader = new LaggingReader(REDIS_URL, rng)
      const history = new RedisHistory(new FlakyWrites(commands, () => flaky && rng.chance(0.2)), { prefix: cluster, perTopic: 10_000, maxTopics: 100, startedAt: ZERO_ID, logSize: 100_000 })
      const broker = new RedisBroker(history, { commands, reader }, { maxIdSkewMs: 60_000, timeoutMs: 2000, blockMs: 200 })
      const hub = new Hub({ history, broker, maxDataBytes: 0, queueLimit: 100_000, maxReplay: 100_000, maxSelectors: 10 })
      await broker.start()
      return { hub, broker }
    }),
  )
  const kept: HubEvent[] = []
  const publishes: Promise<unknown>[] = []
  const subscribes: Promise<unknown>[] = []
  const readers: Reader[] = []
  for (let step = 0; step < 40; step++) {
    const action = rng.int(0, 9)
    const node = rng.int(0, nodes.length - 1)
    const { hub } = nodes[node] as (typeof nodes)[number]
    if (action < 6) {
      const principal = rng.pick(PRINCIPALS)
      const inputs: PublishInput[] = Array.from({ length: rng.int(1, 3) }, (_, i) => ({ topic: rng.pick(CLUSTER_TOPICS), data: `${step}.${i}`, ...(rng.chance(0.3) && { private: true }) }))
      const allowed = inputs.every((input) => principal.mayPublish(input.topic))
      publishes.push(
        hub.publish(inputs, principal).then(
          (events) => {
            if (!allowed) problems.push(`step ${step}: a forbidden batch was published`)
            kept.push(...events)
          },
          (error: { code?: string }) => {
            const expected = !allowed ? 'forbidden_topic' : flaky ? 'store_unavailable' : 'none'
            if (error.code !== expected) problems.push(`step ${step}: publish failed with ${error.code ?? String(error)}, expected ${expected}`)
          },
        ),
      )
    } else if (action < 9) {
      const principal = rng.pick(PRINCIPALS)
      const selectors = Array.from({ length: rng.int(1, 2) }, () => parseSelector(rng.pick(CLUSTER_SELECTORS)))
      if (!selectors.every((selector) => principal.maySubscribe(selector))) continue
      // A position another node may have just handed out, or the start.
      const from = kept.length > 0 && rng.chance(0.8) ? (rng.pick(kept.slice(-5)) as HubEvent).id : '0-0'
      subscribes.push(
        hub.subscribe(selectors, { principal, lastEventId: from }).then(
          (subscription) => void readers.push({ node, subscription, principal, after: from }),
          (error: { code?: string }) => void problems.push(`step ${step}: subscribe failed with ${error.code ?? String(error)}`),
        ),
      )
    } else {
      await Bun.sleep(rng.int(0, 3))
    }
  }
  await Promise.all([...publishes, ...subscribes])
  kept.sort((x, y) => compareIds(x.position, y.position))
  const last = kept.at(-1)?.position ?? ZERO_ID
  await waitFor(() => nodes.every(({ broker }) => compareIds(broker.head(), last) >= 0), 'every node delivered the last event')
  for (const [n, { node, subscription, principal, after }] of readers.entries()) {
    const position = after === '0-0' ? ZERO_ID : (kept.find((e) => e.id === after) as HubEvent).position
    const wanted = kept.filter((e) => compareIds(e.position, position) > 0 && subscription.selectors.some((s) => s.matches(e.topic)) && (e.private !== true || principal.maySee(e))).map((e) => e.id)
    const got: string[] = []
    while (subscription.queued > 0) got.push(...((await subscription.next()) ?? []).map((delivery) => delivery.event.id))
    if (subscription.resetTo !== undefined) problems.push(`reader ${n} on node ${node}: reset to ${subscription.resetTo} after ${after}`)
    if (got.join() !== wanted.join()) problems.push(`reader ${n} on node ${node} (${principal.subject ?? 'anyone'}, ${subscription.selectors.map((s) => s.source).join('+')} after ${after}): got [${got.join(' ')}], wanted [${wanted.join(' ')}]`)
    subscription.end()
  }
  await Promise.all(nodes.map(({ hub }) => hub.close()))
  return problems
}

test(`a cluster of lagging nodes delivers what was kept, once, in order, to whom may see it, resumes included (seed ${SEED})`, async () => {
  const rng = new Rng(SEED ^ 0xc105)
  const problems: string[] = []
  for (let i = 0; i < 30 && problems.length === 0; i++) problems.push(...(await clusterScenario(rng)).map((problem) => `scenario ${i}: ${problem}`))
  expect(problems).toEqual([])
}, 60_000)

/**
 * Cluster bench: two Herald nodes on the local Redis, WebSocket subscribers split between them,
 * the publisher on node A. Prints, next to a single node (no Redis) measured in the same run:
 * deliveries/s and p50/p99 publish → receive for the subscribers on A (same node) and on B (every
 * event crossed nodes through Redis). `bun bench/cluster.ts` (part of `bun run bench`).
 *
 * 127.0.0.1 only (BENCH_REDIS may name another port or db there). Skipped, saying why, when no
 * Redis answers or when events do not cross nodes (no Redis broker yet). Bounded: each phase gives
 * up after BENCH_TIMEOUT seconds. Env (defaults): BENCH_CLUSTER_SUBSCRIBERS (500, split evenly),
 * BENCH_CLUSTER_MESSAGES (1000), BENCH_CLUSTER_ROUNDS (3), BENCH_BATCH (50), BENCH_WINDOW (4),
 * BENCH_WARMUP (100), BENCH_TIMEOUT (60). Numbers, never pass/fail; a WARNING if events were lost.
 */
import { RedisClient } from 'bun'
import { killAll, ServerProcess } from './lib/child'
import { publishAll } from './lib/publish'
import { connectAll, type Subscriber } from './lib/subscriber'
import { Tally } from './lib/tally'
import { WsSubscriber } from './lib/ws'

function envInt(name: string, fallback: number, min = 1): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be a whole number ≥ ${min}, got "${text}"`)
  return value
}

const REDIS = process.env.BENCH_REDIS ?? 'redis://127.0.0.1:6379'
const config = {
  subscribers: envInt('BENCH_CLUSTER_SUBSCRIBERS', 500, 2),
  messages: envInt('BENCH_CLUSTER_MESSAGES', 1000),
  rounds: envInt('BENCH_CLUSTER_ROUNDS', 3),
  batch: envInt('BENCH_BATCH', 50),
  window: envInt('BENCH_WINDOW', 4),
  warmup: envInt('BENCH_WARMUP', 100, 0),
  timeoutMs: envInt('BENCH_TIMEOUT', 60) * 1000,
  size: 100,
  sampleEvery: 5,
  stallMs: 5000,
}
const SERVER = new URL('./servers/herald.ts', import.meta.url).pathname

/** One group of subscribers measured together (the ones on one node). */
interface Group {
  name: string
  tally: Tally
  subscribers: Subscriber[]
}

/** What one group got in one round. */
interface GroupResult {
  name: string
  expected: number
  received: number
  deliveriesPerSec: number
  /** First publish → last delivery. */
  ms: number
  latenciesMs: number[]
}

async function redisAnswers(): Promise<boolean> {
  const client = new RedisClient(REDIS, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 1000 })
  try {
    await client.connect()
    return (await client.send('PING', [])) === 'PONG'
  } catch {
    return false
  } finally {
    client.close()
  }
}

/** Deletes the keys a phase left under `prefix`. */
async function deleteKeys(prefix: string): Promise<void> {
  const client = new RedisClient(REDIS, { autoReconnect: false })
  try {
    let cursor = '0'
    do {
      const [next, keys] = (await client.send('SCAN', [cursor, 'MATCH', `${prefix}:*`, 'COUNT', '1000'])) as [string, string[]]
      cursor = next
      if (keys.length > 0) await client.send('UNLINK', keys)
    } while (cursor !== '0')
  } finally {
    client.close()
  }
}

function startNode(name: string, options: Record<string, unknown>): Promise<ServerProcess> {
  return ServerProcess.start(name, SERVER, [], { BENCH_HERALD_OPTIONS: JSON.stringify({ wsMessageRate: 0, maxConnections: 0, ...options }) })
}

async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10)
  }
}

/** True when an event published on `from` reaches a subscriber of `to` within 3 s. */
async function crossesNodes(from: ServerProcess, to: ServerProcess): Promise<boolean> {
  const tally = new Tally(1)
  const probe = new WsSubscriber(tally, false)
  try {
    await connectAll([probe], to.port)
    await until(() => tally.ready + tally.failed > 0, 5000, 'the probe subscriber')
    await publishAll({ port: from.port, messages: 1, batch: 1, window: 1, size: config.size })
    const deadline = performance.now() + 3000
    while (tally.received === 0 && performance.now() < deadline) await Bun.sleep(10)
    return tally.received > 0
  } finally {
    probe.close()
  }
}

/** Publishes `messages` on `port` and waits until every group has them (or the deadline, or a stall). */
async function deliver(port: number, groups: readonly Group[], messages: number): Promise<number> {
  for (const group of groups) {
    group.tally.restart(messages)
    for (const subscriber of group.subscribers) subscriber.restart()
  }
  const startedAt = performance.now()
  await publishAll({ port, messages, batch: config.batch, window: config.window, size: config.size })
  const publishedAt = performance.now()
  const done = () => groups.every((group) => group.tally.complete + group.tally.failed >= group.subscribers.length)
  while (!done()) {
    const now = performance.now()
    const last = Math.max(publishedAt, ...groups.map((group) => group.tally.lastDeliveryAt))
    if (now - startedAt > config.timeoutMs || now - last > config.stallMs) break
    await Bun.sleep(5)
  }
  return startedAt
}

/** Subscribers on each port (their share of config.subscribers), connected and subscribed. */
async function connectGroups(split: readonly { name: string; port: number; count: number }[]): Promise<Group[]> {
  const groups: Group[] = []
  for (const { name, port, count } of split) {
    const tally = new Tally(config.messages)
    const subscribers = Array.from({ length: count }, (_, i) => new WsSubscriber(tally, i % config.sampleEvery === 0))
    groups.push({ name, tally, subscribers })
    await connectAll(subscribers, port)
    await until(() => tally.ready + tally.failed >= count, 30_000, `${count} subscribers on ${name}`)
    if (tally.failed > 0) throw new Error(`${tally.failed} subscribers on ${name} failed: ${tally.failures.join('; ')}`)
  }
  return groups
}

async function measure(publishPort: number, split: readonly { name: string; port: number; count: number }[]): Promise<GroupResult[]> {
  const groups = await connectGroups(split)
  try {
    await Bun.sleep(200)
    if (config.warmup > 0) await deliver(publishPort, groups, config.warmup)
    const startedAt = await deliver(publishPort, groups, config.messages)
    return groups.map(({ name, tally, subscribers }) => {
      const ms = tally.lastDeliveryAt - startedAt
      return { name, expected: subscribers.length * config.messages, received: tally.received, deliveriesPerSec: ms > 0 ? tally.received / (ms / 1000) : 0, ms, latenciesMs: [...tally.latenciesMs] }
    })
  } finally {
    for (const group of groups) for (const subscriber of group.subscribers) subscriber.close()
  }
}

async function singleRound(): Promise<GroupResult[]> {
  const node = await startNode('single node', {})
  try {
    return await measure(node.port, [{ name: 'single node (no Redis), all subscribers', port: node.port, count: config.subscribers }])
  } finally {
    await node.stop()
  }
}

async function clusterRound(round: number): Promise<GroupResult[]> {
  const prefix = `herald-bench-${process.pid}-${round}`
  const options = { redis: REDIS, redisPrefix: prefix }
  const [a, b] = await Promise.all([startNode('node A', options), startNode('node B', options)])
  try {
    if (round === 1 && !((await crossesNodes(a, b)) && (await crossesNodes(b, a)))) return []
    const half = Math.floor(config.subscribers / 2)
    const results = await measure(a.port, [
      { name: 'cluster, node A (publisher\'s node)', port: a.port, count: config.subscribers - half },
      { name: 'cluster, node B (every event crossed nodes)', port: b.port, count: half },
    ])
    const received = results.reduce((sum, r) => sum + r.received, 0)
    const ms = Math.max(...results.map((r) => r.ms))
    const all = { name: 'cluster, all subscribers (A + B)', expected: results.reduce((sum, r) => sum + r.expected, 0), received, deliveriesPerSec: ms > 0 ? received / (ms / 1000) : 0, ms, latenciesMs: results.flatMap((r) => r.latenciesMs) }
    return [...results, all]
  } finally {
    await Promise.all([a.stop(), b.stop()])
    await deleteKeys(prefix)
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y)
  const middle = sorted.length >> 1
  return sorted.length === 0 ? Number.NaN : sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

function percentile(values: readonly number[], q: number): number {
  const sorted = Float64Array.from(values).sort()
  return sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number)
}

function table(results: Map<string, GroupResult[]>): string {
  const rows = [['phase', 'deliveries/s (median)', 'p50 ms', 'p99 ms', 'lost']]
  for (const [name, rounds] of results) {
    const latencies = rounds.flatMap((r) => r.latenciesMs)
    const lost = rounds.reduce((sum, r) => sum + r.expected - r.received, 0)
    rows.push([name, Math.round(median(rounds.map((r) => r.deliveriesPerSec))).toLocaleString('en-US'), percentile(latencies, 0.5).toFixed(1), percentile(latencies, 0.99).toFixed(1), lost.toLocaleString('en-US')])
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)))
  return rows.map((row, r) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ') + (r === 0 ? `\n${'-'.repeat(widths.reduce((x, y) => x + y + 2, -2))}` : '')).join('\n')
}

async function main(): Promise<void> {
  const budgetMs = config.rounds * 3 * (config.timeoutMs + 30_000)
  setTimeout(() => {
    console.error(`WARNING: the cluster bench did not finish within ${budgetMs / 1000} s; giving up`)
    process.exit(1)
  }, budgetMs).unref()

  const url = new URL(REDIS)
  if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') throw new Error(`BENCH_REDIS must be on 127.0.0.1 (the bench never touches another machine), got ${url.hostname}`)
  console.log(`Herald cluster bench: ${config.subscribers} WebSocket subscribers × ${config.messages} messages of ${config.size} B, ${config.rounds} rounds, 127.0.0.1, Redis ${REDIS}`)
  if (!(await redisAnswers())) {
    console.log(`Cluster phase skipped: no Redis answers at ${REDIS} (start one, or set BENCH_REDIS=redis://127.0.0.1:<port>).`)
    return
  }
  console.log(`Cluster: 2 nodes on one Redis (a fresh key prefix per round), ${config.subscribers - Math.floor(config.subscribers / 2)} subscribers on node A, ${Math.floor(config.subscribers / 2)} on node B, publisher on node A`)
  console.log(`  (HTTP POST /publish, batches of ${config.batch}, ${config.window} in flight). Single node: the same load on one Herald without Redis, same run.`)
  console.log(`Latency: publish → receive on every ${config.sampleEvery}th subscriber, from when the batch was built (includes queueing behind the batches in flight).\n`)
  const results = new Map<string, GroupResult[]>()
  const keep = (list: GroupResult[]) => {
    for (const result of list) results.set(result.name, [...(results.get(result.name) ?? []), result])
  }
  for (let round = 1; round <= config.rounds; round++) {
    const single = await singleRound()
    const cluster = await clusterRound(round)
    if (cluster.length === 0) {
      console.log('Cluster phase skipped: an event published on one node did not reach a subscriber of the other within 3 s (no Redis broker yet:')
      console.log('  the nodes share Redis for /stats and the demos, but events do not cross nodes). Single node, for reference:\n')
      keep(single)
      console.log(table(results))
      return
    }
    keep(single)
    keep(cluster)
    const line = [...single, ...cluster].map((r) => `${r.name.split(' (')[0]}: ${Math.round(r.deliveriesPerSec).toLocaleString('en-US')}/s`).join('; ')
    console.log(`round ${round}: ${line}`)
  }
  console.log(`\n${table(results)}`)
  for (const [name, rounds] of results) {
    const lost = rounds.reduce((sum, r) => sum + r.expected - r.received, 0)
    if (lost > 0) console.log(`WARNING: ${name} lost ${lost.toLocaleString('en-US')} events`)
    if (lost < 0) console.log(`WARNING: ${name} got ${(-lost).toLocaleString('en-US')} events more than were published (duplicates)`)
  }
}

try {
  await main()
} catch (error) {
  console.error(`cluster bench failed: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
} finally {
  killAll()
}
process.exit()

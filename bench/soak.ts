/**
 * `bun run soak`: a bounded soak of a Herald server in its own process. For SOAK_SECONDS (default
 * 60) SSE and WebSocket subscribers join and leave, some stall (stop reading for seconds, so the
 * server cuts them and they resume from their last id), some drop their connection abruptly;
 * publishers post over HTTP and over WebSockets. Then the publishers stop, every remaining
 * subscriber must catch up, all leave, and each subscriber's whole history is checked against what
 * the publishers had acknowledged (ledger.ts). Prints counts, the server's RSS over time and the
 * final subscriber count, which must be 0. Exits 1 on any problem.
 *
 * Env: SOAK_SECONDS (60), SOAK_SUBSCRIBERS (concurrent, 120), SOAK_RATE (publishes/s, 400),
 * SOAK_SEED (a number: the same seed makes the same choices).
 */
import { parseSelector } from '../src/hub/topics'
import { ServerProcess } from './lib/child'
import { type AckedEvent, Ledger, verify } from './soak/ledger'
import { SoakSubscriber } from './soak/subscriber'

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60)
const CONCURRENT = Number(process.env.SOAK_SUBSCRIBERS ?? 120)
const RATE = Number(process.env.SOAK_RATE ?? 400)
let seed = Number(process.env.SOAK_SEED ?? 1)
const TOPICS = Array.from({ length: 20 }, (_, i) => `soak/${i}`)
const PUBLISHERS = 8
const HOST = '127.0.0.1'
const MARGIN_MS = 1000

/** Seeded choices (mulberry32), so a run can be repeated. */
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const between = (min: number, max: number) => min + random() * (max - min)
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T

const server = await ServerProcess.start('herald', new URL('./servers/soak-herald.ts', import.meta.url).pathname)
const base = `http://${HOST}:${server.port}`
const started = performance.now()
const elapsed = () => (performance.now() - started) / 1000
const ledger = new Ledger()
let publishing = true
let publishErrors = 0

/** `<topic>|<publisher>:<n>:<padding>`: the topic travels in the data, padding makes slow readers fall behind. */
function payload(topic: string, publisher: number, n: number): string {
  return `${topic}|p${publisher}:${n}:${'x'.repeat(Math.floor(between(0, 4096)))}`
}

async function httpPublisher(index: number): Promise<void> {
  for (let n = 0; publishing; n++) {
    const topic = pick(TOPICS)
    const data = payload(topic, index, n)
    try {
      const response = await fetch(`${base}/topics/${topic}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: data })
      if (response.status !== 200) throw new Error(String(response.status))
      const { id } = (await response.json()) as { id: string }
      ledger.record({ id, topic, data, ackedAt: performance.now() })
    } catch {
      publishErrors++
    }
    await Bun.sleep(between(0, (2 * 1000 * PUBLISHERS) / RATE))
  }
}

async function wsPublisher(index: number): Promise<void> {
  const socket = new WebSocket(`ws://${HOST}:${server.port}/ws`)
  const waiting = new Map<string, (reply: { type: string; id?: string }) => void>()
  socket.addEventListener('message', (message) => {
    const reply = JSON.parse(String(message.data)) as { type: string; id?: string; ref?: string }
    if (reply.ref) waiting.get(reply.ref)?.(reply)
  })
  await new Promise((resolve) => socket.addEventListener('open', resolve, { once: true }))
  for (let n = 0; publishing; n++) {
    const topic = pick(TOPICS)
    const data = payload(topic, index, n)
    const ref = `${index}-${n}`
    const reply = await new Promise<{ type: string; id?: string }>((resolve) => {
      waiting.set(ref, resolve)
      socket.send(JSON.stringify({ type: 'publish', topic, data, ref }))
    })
    waiting.delete(ref)
    if (reply.type === 'published' && reply.id) ledger.record({ id: reply.id, topic, data, ackedAt: performance.now() } satisfies AckedEvent)
    else publishErrors++
    await Bun.sleep(between(0, (2 * 1000 * PUBLISHERS) / RATE))
  }
  socket.close()
}

// Subscribers: each lives a few seconds; a quarter stall, a tenth drop their connection once.
const everyone: SoakSubscriber[] = []
const live = new Set<SoakSubscriber>()
let stalls = 0
let bounces = 0
function spawnSubscriber(): void {
  const kind = random() < 0.5 ? 'sse' : 'ws'
  const slow = random() < 0.25
  // Slow readers mostly take everything, so they really fall behind.
  const selectors = slow && random() < 0.7 ? ['soak/**'] : Array.from(new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => (random() < 0.1 ? 'soak/*' : pick(TOPICS)))))
  const subscriber = new SoakSubscriber(`${kind}-${everyone.length}`, kind, selectors, HOST, server.port)
  everyone.push(subscriber)
  live.add(subscriber)
  void subscriber.start()
  const lifetime = between(3, 30) * 1000
  if (slow) {
    stalls++
    setTimeout(() => subscriber.left || subscriber.stall(between(2000, 15_000)), between(500, lifetime / 2))
  } else if (random() < 0.13) {
    bounces++
    setTimeout(() => subscriber.left || subscriber.bounce(), between(500, lifetime))
  }
  setTimeout(() => {
    if (!publishing) return // the end phase takes over
    subscriber.leave()
    live.delete(subscriber)
  }, lifetime)
}

interface Sample {
  t: number
  rssMb: number
  subscribers: number
  websockets: number
  queued: number
  published: number
}
const samples: Sample[] = []
async function sample(): Promise<void> {
  const stats = (await (await fetch(`${base}/stats`)).json()) as { subscribers: number; websockets: number; queued: number; published: number }
  const status = await Bun.file(`/proc/${server.pid}/status`).text()
  const rssMb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024
  samples.push({ t: Math.round(elapsed()), rssMb: Math.round(rssMb), subscribers: stats.subscribers, websockets: stats.websockets, queued: stats.queued, published: stats.published })
  const last = samples.at(-1) as Sample
  console.log(`t=${String(last.t).padStart(3)}s  rss ${String(last.rssMb).padStart(4)} MB  hub subscribers ${String(last.subscribers).padStart(4)}  websockets ${String(last.websockets).padStart(4)}  queued ${String(last.queued).padStart(5)}  published ${last.published}`)
}

console.log(`soak: ${SECONDS}s, ~${CONCURRENT} concurrent subscribers, ~${RATE} publishes/s over HTTP and WebSocket, seed ${process.env.SOAK_SEED ?? 1}; server pid ${server.pid}\n`)
const publishers = [...Array.from({ length: PUBLISHERS / 2 }, (_, i) => httpPublisher(i)), ...Array.from({ length: PUBLISHERS / 2 }, (_, i) => wsPublisher(PUBLISHERS / 2 + i))]
const sampler = setInterval(() => void sample(), 5000)
// Churn for the first part of the run; the rest is for catching up, leaving and checking.
const churnUntil = SECONDS - Math.min(15, SECONDS / 4)
while (elapsed() < churnUntil) {
  while (live.size < CONCURRENT) spawnSubscriber()
  await Bun.sleep(100)
}

// End phase: stop publishing, let every remaining subscriber catch up, then everyone leaves.
publishing = false
await Promise.all(publishers)
const lastOf = (subscriber: SoakSubscriber) => ledger.matching(subscriber.record.selectors.map(parseSelector)).at(-1)?.id
const remaining = [...live]
for (const subscriber of remaining) subscriber.wake()
const catchUpDeadline = started + Math.max(SECONDS - 2, churnUntil + 5) * 1000
while (performance.now() < catchUpDeadline && remaining.some((s) => s.lastId !== lastOf(s) && s.record.resets.length === 0)) await Bun.sleep(100)
const behind = remaining.filter((s) => s.lastId !== lastOf(s) && s.record.resets.length === 0)
for (const subscriber of everyone) subscriber.leave()
live.clear()

// Verify every subscriber's whole history.
const problems: string[] = []
for (const subscriber of everyone) for (const problem of verify(subscriber.record, ledger, MARGIN_MS)) problems.push(`${subscriber.record.name} [${subscriber.record.selectors.join(' ')}]: ${problem}`)
for (const subscriber of behind) problems.push(`${subscriber.record.name}: still behind at the end (last ${subscriber.lastId}, expected ${lastOf(subscriber)})`)

// All gone: the server must hold no subscriber, stream or socket.
let final = { subscribers: -1, subscriptions: -1, websockets: -1, slowConsumers: {} as Record<string, number> }
const settleDeadline = performance.now() + 5_000
while (performance.now() < settleDeadline) {
  final = (await (await fetch(`${base}/stats`)).json()) as typeof final
  if (final.subscribers === 0 && final.subscriptions === 0 && final.websockets === 0) break
  await Bun.sleep(100)
}
clearInterval(sampler)
await sample()
if (final.subscribers !== 0 || final.subscriptions !== 0 || final.websockets !== 0) problems.push(`server still holds ${JSON.stringify(final)}`)

const delivered = everyone.reduce((sum, s) => sum + s.record.received.length, 0)
const rss = samples.map((s) => s.rssMb)
console.log(`
published (acknowledged)  ${ledger.size}   publish errors ${publishErrors}
subscribers               ${everyone.length} (${everyone.filter((s) => s.kind === 'sse').length} SSE, ${everyone.filter((s) => s.kind === 'ws').length} WebSocket); ${stalls} stalled, ${bounces} dropped their connection
events delivered          ${delivered}
reconnects                ${everyone.reduce((sum, s) => sum + s.reconnects, 0)}   cut as too slow (seen by clients) ${everyone.reduce((sum, s) => sum + s.cuts, 0)}   resets ${everyone.reduce((sum, s) => sum + s.record.resets.length, 0)}
server slow consumers     ${JSON.stringify(final.slowConsumers)}
server RSS                min ${Math.min(...rss)} MB, max ${Math.max(...rss)} MB, last ${rss.at(-1)} MB
final subscriber count    ${final.subscribers} (subscriptions ${final.subscriptions}, websockets ${final.websockets})
problems                  ${problems.length}`)
for (const problem of problems.slice(0, 30)) console.log(`  - ${problem}`)
await server.stop()
process.exit(problems.length === 0 ? 0 : 1)

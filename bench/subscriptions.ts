/**
 * Subscription-flood benchmark: `bun run bench:subscriptions`. Numbers only, never pass/fail.
 *
 * The attack shape of issue 8: BENCH_SOCKETS WebSockets (30) each send BENCH_ROUNDS subscribe
 * messages (95) of BENCH_PATTERNS distinct patterns (64), one round at a time: 182,400 in all. Printed: the
 * server's RSS (after a full GC) and the latency of an HTTP publish to a fresh topic (median / p90
 * of BENCH_PROBES, 50) before and after the flood, the time each round of subscribes took, and how
 * many selectors were accepted or refused (and with which error code).
 *
 * Two phases, each in a fresh server process on 127.0.0.1: Herald with its default limits, then
 * with the subscription limits raised far enough to accept the whole flood (so the cost of holding
 * that many patterns is visible). The message rate limit is off in both, so it does not hide the
 * subscribe cost. Each phase gives up after BENCH_TIMEOUT seconds (120).
 */
import { killAll, ServerProcess } from './lib/child'

function envInt(name: string, fallback: number, min = 1): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be a whole number ≥ ${min}, got "${text}"`)
  return value
}

const SOCKETS = envInt('BENCH_SOCKETS', 30)
const ROUNDS = envInt('BENCH_ROUNDS', 95)
const PATTERNS = envInt('BENCH_PATTERNS', 64)
const PROBES = envInt('BENCH_PROBES', 50)
const TIMEOUT_MS = envInt('BENCH_TIMEOUT', 120) * 1000
const TOTAL = SOCKETS * ROUNDS * PATTERNS

type Reply = { type: string; code?: string; ref?: unknown }

/** One WebSocket that sends a message with a ref and waits for the reply carrying it. */
class Client {
  private readonly waiting = new Map<number, (reply: Reply) => void>()
  private nextRef = 0

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener('message', (event) => {
      const reply = JSON.parse(String(event.data)) as Reply
      if (typeof reply.ref !== 'number') return
      this.waiting.get(reply.ref)?.(reply)
      this.waiting.delete(reply.ref)
    })
  }

  static open(port: number): Promise<Client> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`)
    return new Promise((resolve, reject) => {
      socket.addEventListener('open', () => resolve(new Client(socket)), { once: true })
      socket.addEventListener('error', () => reject(new Error('WebSocket could not open')), { once: true })
    })
  }

  request(message: Record<string, unknown>): Promise<Reply> {
    const ref = this.nextRef++
    return new Promise((resolve, reject) => {
      this.waiting.set(ref, resolve)
      this.socket.addEventListener('close', () => reject(new Error('socket closed by the server')), { once: true })
      this.socket.send(JSON.stringify({ ...message, ref }))
    })
  }

  close(): void {
    this.socket.close()
  }
}

/**
 * Distinct patterns of three shapes: a literal prefix ending in `*`, a `*` inside, and a `*` first
 * segment with a final `**` (a root wildcard every topic has to consider).
 */
function patterns(socket: number, round: number): string[] {
  return Array.from({ length: PATTERNS }, (_, i) => {
    switch (i % 3) {
      case 0:
        return `atk/s${socket}/r${round}/${i}/*`
      case 1:
        return `atk/s${socket}/*/r${round}-${i}`
      default:
        return `*/s${socket}-r${round}-${i}/**`
    }
  })
}

let freshTopic = 0

/** Median and p90 latency, in ms, of sequential HTTP publishes, each to a topic never used before. */
async function publishLatency(port: number): Promise<{ p50: number; p90: number }> {
  const times: number[] = []
  for (let i = 0; i < PROBES; i++) {
    const start = performance.now()
    const response = await fetch(`http://127.0.0.1:${port}/topics/fresh/${freshTopic++}/x`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'probe' })
    await response.text()
    if (!response.ok) throw new Error(`publish answered ${response.status}`)
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  return { p50: times[Math.floor(times.length / 2)] as number, p90: times[Math.floor(times.length * 0.9)] as number }
}

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MB`
const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`

async function phase(name: string, options: Record<string, number>): Promise<void> {
  console.log(`\n${name}: ${JSON.stringify(options)}`)
  const env = { BENCH_HERALD_OPTIONS: JSON.stringify({ wsMessageRate: 0, ...options }) }
  const server = await ServerProcess.start(name, new URL('./servers/herald.ts', import.meta.url).pathname, [], env)
  const deadline = Date.now() + TIMEOUT_MS
  try {
    const clients = await Promise.all(Array.from({ length: SOCKETS }, () => Client.open(server.port)))
    await publishLatency(server.port) // warm-up: JIT, keep-alive connection
    const rssBefore = await server.rssAfterGc()
    const before = await publishLatency(server.port)
    console.log(`  before: RSS ${mb(rssBefore)}, publish to a fresh topic p50 ${ms(before.p50)} / p90 ${ms(before.p90)}`)

    let accepted = 0
    const refused = new Map<string, number>()
    const roundMs: number[] = []
    for (let round = 0; round < ROUNDS && Date.now() < deadline; round++) {
      const start = performance.now()
      const replies = await Promise.all(clients.map((client, socket) => client.request({ type: 'subscribe', topics: patterns(socket, round) })))
      roundMs.push(performance.now() - start)
      for (const reply of replies) {
        if (reply.type === 'subscribed') accepted += PATTERNS
        else refused.set(reply.code ?? reply.type, (refused.get(reply.code ?? reply.type) ?? 0) + PATTERNS)
      }
      if (round === 0 || (round + 1) % 10 === 0 || round === ROUNDS - 1) {
        console.log(`  round ${String(round + 1).padStart(3)}: ${ms(roundMs.at(-1) as number).padStart(8)} for ${SOCKETS} subscribes; ${accepted.toLocaleString('en-US')} selectors held`)
      }
    }
    if (roundMs.length < ROUNDS) console.log(`  WARNING: gave up after ${roundMs.length} of ${ROUNDS} rounds (BENCH_TIMEOUT)`)
    const total = roundMs.reduce((sum, value) => sum + value, 0)
    const mean = (list: number[]) => list.reduce((sum, value) => sum + value, 0) / Math.max(1, list.length)
    console.log(`  per round of ${SOCKETS} subscribes: first 10 rounds ${ms(mean(roundMs.slice(0, 10)))} on average, last 10 ${ms(mean(roundMs.slice(-10)))}`)
    const refusedText = [...refused].map(([code, count]) => `${count.toLocaleString('en-US')} (${code})`).join(', ') || 'none'
    console.log(`  flood: ${(total / 1000).toFixed(1)} s for ${roundMs.length} rounds; accepted ${accepted.toLocaleString('en-US')} of ${(roundMs.length * SOCKETS * PATTERNS).toLocaleString('en-US')} selectors; refused ${refusedText}`)
    const rssAfter = await server.rssAfterGc()
    const after = await publishLatency(server.port)
    console.log(`  after:  RSS ${mb(rssAfter)}, publish to a fresh topic p50 ${ms(after.p50)} / p90 ${ms(after.p90)}`)
    for (const client of clients) client.close()
  } finally {
    await server.stop()
  }
}

async function main(): Promise<void> {
  console.log(`Subscription flood: ${SOCKETS} WebSockets × ${ROUNDS} subscribes × ${PATTERNS} distinct patterns (${TOTAL.toLocaleString('en-US')} in all), 127.0.0.1`)
  await phase('Herald, default limits', {})
  await phase('Herald, subscription limits raised to take the whole flood', { maxConnectionTopics: ROUNDS * PATTERNS, maxServerTopics: TOTAL })
}

try {
  await main()
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
} finally {
  killAll()
}
process.exit()

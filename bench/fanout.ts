/**
 * Fan-out benchmark: Herald vs a minimal Bun server, over WebSocket and SSE. `bun run bench`.
 *
 * Servers run in child processes (their own core, their own RSS); the load client is this process,
 * one raw TCP socket per subscriber. Prints numbers, never pass/fail, plus a WARNING if events were
 * lost. Env (defaults): BENCH_SUBSCRIBERS (1000), BENCH_MESSAGES (2000), BENCH_ROUNDS (5),
 * BENCH_BATCH (50 messages per POST), BENCH_WINDOW (4 POSTs in flight), BENCH_WARMUP (200 messages,
 * unmeasured), BENCH_TIMEOUT (60 s per phase), BENCH_PROFILE=1 (each server writes a markdown CPU
 * profile per phase to bench/profiles/ on exit; read its sample counts, its ms include idle time),
 * BENCH_AUTH=1 (adds Herald with a key, every subscriber and the publisher with a token of its own,
 * next to each Herald phase, and prints auth on vs off; target within 5 %) or BENCH_AUTH=only (the
 * Herald phases with and without auth, no raw server).
 */
import { killAll } from './lib/child'
import { type BenchConfig, type PhaseResult, runPhase, type ServerKind, type Transport } from './lib/phase'
import { comparison, label, phaseTable, roundLine, type Summary, summarize, target } from './lib/report'

function envInt(name: string, fallback: number, min = 1): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be a whole number ≥ ${min}, got "${text}"`)
  return value
}

/** The soft open-files limit (each side holds one descriptor per subscriber, plus a few). */
async function openFileLimit(): Promise<number> {
  const limits = await Bun.file('/proc/self/limits').text()
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1]
  return soft === undefined || soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft)
}

const config: BenchConfig = {
  subscribers: envInt('BENCH_SUBSCRIBERS', 1000),
  messages: envInt('BENCH_MESSAGES', 2000),
  warmup: envInt('BENCH_WARMUP', 200, 0),
  batch: envInt('BENCH_BATCH', 50),
  window: envInt('BENCH_WINDOW', 4),
  rounds: envInt('BENCH_ROUNDS', 5),
  size: 100,
  sampleEvery: 10,
  timeoutMs: envInt('BENCH_TIMEOUT', 60) * 1000,
  stallMs: 5_000,
  profileDir: process.env.BENCH_PROFILE ? new URL('./profiles', import.meta.url).pathname : undefined,
}

const AUTH = process.env.BENCH_AUTH ?? ''
if (!['', '0', '1', 'only'].includes(AUTH)) throw new Error(`BENCH_AUTH must be 1 or only, got "${AUTH}"`)
const WITH_AUTH = AUTH === '1' || AUTH === 'only'
const WITH_RAW = AUTH !== 'only'

/** Interleaved, so drift on the machine (other load, thermal) hits every phase alike. */
const PHASES: [ServerKind, Transport][] = (['ws', 'sse'] as const).flatMap((transport) => [
  ['herald', transport] as [ServerKind, Transport],
  ...(WITH_AUTH ? [['herald-auth', transport] as [ServerKind, Transport]] : []),
  ...(WITH_RAW ? [['raw', transport] as [ServerKind, Transport]] : []),
])

function printHeader(limit: number): void {
  const { subscribers: n, messages: m } = config
  console.log(`Herald fan-out bench: ${n} subscribers × ${m} messages of ${config.size} B data per phase, ${config.rounds} rounds, 127.0.0.1`)
  console.log(`Servers: Herald (createServer) and raw Bun.serve (server.publish for WS, one ReadableStream per SSE client), each phase in a fresh child process.`)
  if (WITH_AUTH) {
    console.log(`Herald+auth: Herald with --jwt-secret; each subscriber connects with its own HS256 token (Authorization header; subscribe bench and`)
    console.log(`  users/{sub}/**), the publisher sends a publish token with every POST.${WITH_RAW ? '' : ' No raw server (BENCH_AUTH=only).'}`)
  }
  console.log(`Publishing: HTTP POST /publish, JSON batches of ${config.batch}, ${config.window} in flight, as fast as the server answers (keeps the publish path a small`)
  console.log(`  share of server work, so fan-out is what is measured), after an unmeasured warm-up of ${config.warmup} messages.`)
  console.log(`Latency: every ${config.sampleEvery}th subscriber; measured from when the message's batch was built, so at full speed it includes queueing behind`)
  console.log(`  the ${config.window} batches in flight (compare Herald with raw, not with zero).`)
  const needed = n + 256
  console.log(`Open-files soft limit: ${limit}${limit < needed ? ` — WARNING: below the ${needed} each process needs; raise it with ulimit -n` : ' (enough)'}`)
  console.log('')
}

function printWarnings(summaries: readonly Summary[]): void {
  for (const s of summaries) {
    const why = s.failures.length ? `: ${s.failures.join('; ')}` : ''
    if (s.lost > 0 || s.failed > 0) {
      console.log(`WARNING: ${label(s)} lost ${s.lost.toLocaleString('en-US')} of ${s.expected.toLocaleString('en-US')} events over ${config.rounds} rounds (${s.failed} connections failed${why})`)
    } else if (s.lost < 0) {
      console.log(`WARNING: ${label(s)} delivered ${(-s.lost).toLocaleString('en-US')} events more than were published (duplicates)`)
    }
  }
}

async function main(): Promise<void> {
  // A hang anywhere must still end the run (and the children, via killAll on exit).
  const budgetMs = config.rounds * PHASES.length * (config.timeoutMs + 30_000)
  setTimeout(() => {
    console.error(`WARNING: the bench did not finish within ${budgetMs / 1000} s; giving up`)
    process.exit(1)
  }, budgetMs).unref()

  const limit = await openFileLimit()
  printHeader(limit)
  const results = new Map<string, PhaseResult[]>()
  for (let round = 1; round <= config.rounds; round++) {
    for (const [server, transport] of PHASES) {
      const result = await runPhase(server, transport, config, round)
      console.log(roundLine(round, result))
      const key = `${server} ${transport}`
      results.set(key, [...(results.get(key) ?? []), result])
    }
  }
  const summaries = PHASES.map(([server, transport]) => summarize(results.get(`${server} ${transport}`) as PhaseResult[]))
  const find = (server: ServerKind, transport: Transport) => summaries.find((s) => s.server === server && s.transport === transport) as Summary

  console.log(`\n${phaseTable(summaries)}`)
  console.log('(per server CPU-s: deliveries per second of server CPU time, a client-independent measure; client CPU near 100 % means the client')
  console.log(' shares the limit, which on a 2-core machine is expected, so read deliveries/s as a ratio)\n')
  if (WITH_RAW) {
    console.log(`${comparison(find('herald', 'ws'), find('raw', 'ws'))}\n`)
    console.log(`${comparison(find('herald', 'sse'), find('raw', 'ws'))}\n`)
    console.log(`${comparison(find('herald', 'sse'), find('raw', 'sse'))}\n`)
  }
  if (WITH_AUTH) {
    for (const transport of ['ws', 'sse'] as const) console.log(`${comparison(find('herald-auth', transport), find('herald', transport))}\n`)
  }
  console.log(`Targets at ${config.subscribers} subscribers (median deliveries/s):`)
  if (WITH_RAW) {
    console.log(target('Herald WS vs raw server.publish (WS)', find('herald', 'ws'), find('raw', 'ws'), 0.9))
    console.log(target('Herald SSE vs raw server.publish (WS)', find('herald', 'sse'), find('raw', 'ws'), 0.5))
  }
  if (WITH_AUTH) {
    console.log(target('Herald WS, auth on vs off', find('herald-auth', 'ws'), find('herald', 'ws'), 0.95))
    console.log(target('Herald SSE, auth on vs off', find('herald-auth', 'sse'), find('herald', 'sse'), 0.95))
  }
  printWarnings(summaries)
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

/**
 * What one resume costs the server, with a large retained history: `bun run bench:resume`.
 *
 * A server process per store (memory, then sqlite on a temp file) is filled with BENCH_TOPICS ×
 * BENCH_PER_TOPIC events (default 10,000 × 30 = 300,000: the default --history-topics, at 30 events
 * each; the default --history keeps 1,000 per topic), then clients resume with
 * `GET /events?topic=**&lastEventId=…`, one and eight at once:
 * - reset: from the oldest id (300,000 events back: more than max-replay, so the answer is `reset`);
 * - replay: from BENCH_REPLAY (10,000) events back, within max-replay: all of them are replayed;
 * - one topic: `?topic=bench/t7` from the oldest id: that topic's events are replayed.
 * For each it prints the time until the answer (reset) or the last replayed event, the worst
 * `/healthz` latency seen by a client polling it back to back meanwhile, and the worst event-loop
 * stall the server saw (a 1 ms interval in the server process). Medians of BENCH_ROUNDS (3).
 * Numbers only, never pass/fail.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ServerProcess } from './lib/child'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const STORES = (process.env.BENCH_STORES ?? 'memory,sqlite').split(',')
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'herald-bench-resume-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

interface Filled {
  events: number
  topics: number
  oldest: string
  replayFrom: string
  replayed: number
  perTopic: number
  stats: { topics: number; events: number }
}

/** One SSE resume; resolves when the reset arrived, or when `events` events were read. */
async function resume(base: string, topic: string, lastEventId: string, events: number): Promise<number> {
  const started = performance.now()
  const controller = new AbortController()
  const response = await fetch(`${base}/events?topic=${encodeURIComponent(topic)}&lastEventId=${lastEventId}`, { signal: controller.signal })
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let tail = ''
  let seen = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) throw new Error('stream ended early')
      const text = tail + decoder.decode(value, { stream: true })
      if (events === 0 && text.includes('event: reset')) break
      seen += text.split('\nid: ').length - 1
      if (events > 0 && text.includes('event: reset')) throw new Error('expected a replay, got reset')
      if (events > 0 && seen >= events) break
      // Keep the end, so a marker split across reads is counted (and the full ones only once).
      const cut = Math.max(0, text.length - 5)
      tail = text.slice(cut).includes('\n') ? text.slice(text.lastIndexOf('\n')) : ''
    }
    return performance.now() - started
  } finally {
    controller.abort()
  }
}

/** Polls /healthz back to back until stopped; resolves with the worst latency seen. */
function pollHealth(base: string): { stop: () => Promise<number> } {
  let running = true
  let worst = 0
  const loop = (async () => {
    while (running) {
      const started = performance.now()
      await (await fetch(`${base}/healthz`)).arrayBuffer()
      worst = Math.max(worst, performance.now() - started)
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      return worst
    },
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
const ms = (value: number) => `${value.toFixed(1)} ms`.padStart(10)

console.log(`resume cost: medians of ${ROUNDS} rounds; Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores`)
for (const kind of STORES) {
  process.env.BENCH_STORE = kind === 'memory' ? 'memory' : `sqlite:${join(dir, `resume-${Date.now()}.db`)}`
  const server = await ServerProcess.start(`herald (${kind})`, new URL('./servers/resume-herald.ts', import.meta.url).pathname)
  const fillStarted = performance.now()
  const filled = JSON.parse(await server.announcement('filled', 600_000)) as Filled
  const base = `http://127.0.0.1:${server.port}`
  const rss = await server.rssAfterGc()
  console.log(
    `\n${kind}: ${filled.stats.events.toLocaleString('en-US')} events retained over ${filled.stats.topics.toLocaleString('en-US')} topics ` +
      `(filled in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s), RSS ${(rss / 2 ** 20).toFixed(0)} MiB`,
  )
  console.log(`${'scenario'.padEnd(26)} ${'answer'.padStart(10)} ${'/healthz'.padStart(10)} ${'loop stall'.padStart(10)}`)
  // Warm-up: compile the paths once before timing them.
  const scenarios = [
    [`reset (${filled.events / 1000}k back)`, '**', filled.oldest, 0],
    [`replay ${filled.replayed.toLocaleString('en-US')}`, '**', filled.replayFrom, filled.replayed],
    [`one topic, ${filled.perTopic} back`, 'bench/t7', filled.oldest, filled.perTopic],
  ] as const
  for (const [, topic, from, events] of scenarios) await resume(base, topic, from, events)
  for (const [name, topic, from, events] of scenarios) {
    for (const clients of [1, 8]) {
      const answers: number[] = []
      const health: number[] = []
      const stalls: number[] = []
      for (let round = 0; round < ROUNDS; round++) {
        await server.command('lag')
        const poller = pollHealth(base)
        await Bun.sleep(20)
        const times = await Promise.all(Array.from({ length: clients }, () => resume(base, topic, from, events)))
        health.push(await poller.stop())
        stalls.push(Number(await server.command('lag')))
        answers.push(Math.max(...times))
      }
      console.log(`${`${name} × ${clients}`.padEnd(26)} ${ms(median(answers))} ${ms(median(health))} ${ms(median(stalls))}`)
    }
  }
  await server.stop()
}

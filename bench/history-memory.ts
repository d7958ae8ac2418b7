/**
 * Memory per retained topic in the memory store: `bun run bench:history-memory`.
 *
 * Each scenario runs in a fresh child process (so RSS starts from the same place): a MemoryHistory
 * at the default --history (1000 events per topic) holding N topics with one small event each
 * (BENCH_DATA_BYTES, default 1), appended one per topic as live publishes would. It prints the heap
 * and RSS growth over the empty store, after a full GC, divided by N: bytes per topic (the event
 * itself included). The "churn" scenario publishes to 20 × N distinct topics through a store that
 * keeps N (topics replaced all along, the default --history-topics 10000) and adds the peak RSS
 * (VmHWM) reached meanwhile. Numbers only, never pass/fail; about 10 s.
 */
import { readFileSync } from 'node:fs'
import { MemoryHistory } from '../src/history/memory'
import type { HubEvent } from '../src/hub/event'
import { formatEventId } from '../src/hub/id'

const PER_TOPIC = Number(process.env.BENCH_PER_TOPIC ?? 1000)
const DATA = 'x'.repeat(Number(process.env.BENCH_DATA_BYTES ?? 1))

interface Measured {
  topics: number
  published: number
  heapBytes: number
  rssBytes: number
  peakRssBytes: number
}

function procStatus(field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))
  return match ? Number(match[1]) * 1024 : Number.NaN
}

function settle(): { heap: number; rss: number } {
  Bun.gc(true)
  Bun.gc(true)
  return { heap: process.memoryUsage().heapUsed, rss: procStatus('VmRSS') }
}

/** The child: fills one store, measures, prints one JSON line. */
function child(topics: number, published: number): void {
  const base = settle()
  const history = new MemoryHistory({ perTopic: PER_TOPIC, maxTopics: topics, startedAt: { ms: 0, seq: 0 } })
  const ms = Date.now()
  for (let i = 0; i < published; i++) {
    const position = { ms, seq: i }
    const event: HubEvent = { id: formatEventId(position), position, topic: `bench/topic-${i}`, data: DATA, json: false, time: ms }
    history.append([event])
  }
  const peakRssBytes = procStatus('VmHWM')
  const after = settle()
  const result: Measured = { topics: history.stats().topics, published, heapBytes: after.heap - base.heap, rssBytes: after.rss - base.rss, peakRssBytes }
  console.log(JSON.stringify(result))
  // Keep the store alive until measured.
  history.close()
}

async function run(topics: number, published: number): Promise<Measured> {
  const proc = Bun.spawn([process.execPath, import.meta.path, '--child', String(topics), String(published)], { stdout: 'pipe', stderr: 'inherit' })
  const text = await new Response(proc.stdout).text()
  if ((await proc.exited) !== 0) throw new Error(`child for ${topics} topics failed`)
  return JSON.parse(text.trim().split('\n').at(-1) as string) as Measured
}

if (process.argv[2] === '--child') {
  child(Number(process.argv[3]), Number(process.argv[4]))
} else {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`.padStart(10)
  const per = (bytes: number, topics: number) => `${Math.round(bytes / topics).toLocaleString('en-US')} B`.padStart(9)
  console.log(`memory store, --history ${PER_TOPIC}, one ${DATA.length}-byte event per topic; Bun ${Bun.version}`)
  console.log(`${'scenario'.padEnd(34)} ${'heap'.padStart(10)} ${'per topic'.padStart(9)} ${'RSS'.padStart(10)} ${'per topic'.padStart(9)} ${'peak RSS'.padStart(10)}`)
  for (const [topics, published] of [
    [10_000, 10_000],
    [100_000, 100_000],
    [10_000, 200_000],
  ] as const) {
    const m = await run(topics, published)
    const name = published === topics ? `${topics.toLocaleString('en-US')} topics` : `${published.toLocaleString('en-US')} published, ${topics.toLocaleString('en-US')} kept`
    console.log(`${name.padEnd(34)} ${mib(m.heapBytes)} ${per(m.heapBytes, m.topics)} ${mib(m.rssBytes)} ${per(m.rssBytes, m.topics)} ${mib(m.peakRssBytes)}`)
  }
}

/**
 * Herald with its history filled, for bench/resume.ts. Listens at once (announcing its port), then
 * publishes BENCH_TOPICS × BENCH_PER_TOPIC events (topics round-robin, so ids interleave across
 * topics as they do live) into the store BENCH_STORE names, at the default retention limits, and
 * announces `bench:filled {json}` with the resume positions to try. An event-loop lag probe runs
 * from then on: the `lag` command answers the longest stall since the last `lag`, in milliseconds.
 */
import { createServer } from '../../src/server'
import type { StoreSpec } from '../../src/config'
import { runControl } from './control'

const store = (process.env.BENCH_STORE ?? 'memory') as StoreSpec
const topics = Number(process.env.BENCH_TOPICS ?? 10_000)
const perTopic = Number(process.env.BENCH_PER_TOPIC ?? 30)
const data = 'x'.repeat(Number(process.env.BENCH_DATA_BYTES ?? 16))
const replayBack = Number(process.env.BENCH_REPLAY ?? 10_000)

const { app, hub } = createServer({ port: 0, host: '127.0.0.1', store })
app.listen({ port: 0, hostname: '127.0.0.1' })

/** The longest gap between two ticks of a 1 ms interval, minus the interval: how long the loop was blocked. */
let worstLagMs = 0
let lastTick = 0

runControl(app.server!.port!, () => app.stop(), {
  lag: () => {
    const worst = worstLagMs
    worstLagMs = 0
    return worst.toFixed(1)
  },
})

const total = topics * perTopic
const ids: string[] = []
const BATCH = 1000
for (let start = 0; start < total; start += BATCH) {
  const batch = Array.from({ length: Math.min(BATCH, total - start) }, (_, i) => ({ topic: `bench/t${(start + i) % topics}`, data }))
  const events = await hub.publish(batch)
  for (const event of events) ids.push(event.id)
  // Let the sqlite store's background work and the port announcement through.
  if (start % 50_000 === 0) await Bun.sleep(0)
}
const info = { events: total, topics, oldest: ids[0], replayFrom: ids[total - replayBack - 1], replayed: replayBack, perTopic, head: ids.at(-1), stats: hub.stats().history }
ids.length = 0

lastTick = performance.now()
setInterval(() => {
  const now = performance.now()
  worstLagMs = Math.max(worstLagMs, now - lastTick - 1)
  lastTick = now
}, 1)
process.stdout.write(`bench:filled ${JSON.stringify(info)}\n`)

/**
 * Publishes per second for each history store, single and batched: `bun run bench:store`.
 *
 * Two layers, so the store's own cost is visible apart from HTTP's:
 * - hub: `hub.publish` called in-process (validation, id, history append, delivery to one subscriber);
 * - http: `POST /topics/{topic}` (single) and `POST /publish` with an array (batched) over loopback
 *   keep-alive connections from this process, against a server in the same process.
 * The sqlite store writes to a fresh file in a temp directory (WAL, synchronous=NORMAL), with
 * retention active (--history 1000 over 100 topics, so trims run). Numbers only, never pass/fail.
 *
 * Env: BENCH_SECONDS (per measurement, default 2), BENCH_DATA_BYTES (default 256),
 * BENCH_BATCH (events per batch, default 100), BENCH_HTTP_CONCURRENCY (default 16), BENCH_DIR (where
 * the sqlite files go, default the OS temp dir; /dev/shm shows the CPU-bound ceiling without the disk).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from '../src/server'
import type { StoreSpec } from '../src/config'
import { parseSelector } from '../src/hub/topics'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2)
const DATA = 'x'.repeat(Number(process.env.BENCH_DATA_BYTES ?? 256))
const BATCH = Number(process.env.BENCH_BATCH ?? 100)
const CONCURRENCY = Number(process.env.BENCH_HTTP_CONCURRENCY ?? 16)
const TOPICS = 100

const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'herald-bench-store-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

let fileNumber = 0
function storeFor(kind: 'memory' | 'sqlite'): StoreSpec {
  return kind === 'memory' ? 'memory' : `sqlite:${join(dir, `bench-${fileNumber++}.db`)}`
}

/** Runs `step` (which publishes `perStep` events) back to back for SECONDS; returns events/s. */
async function rate(perStep: number, step: (i: number) => Promise<unknown>): Promise<number> {
  const end = performance.now() + SECONDS * 1000
  const start = performance.now()
  let events = 0
  let i = 0
  while (performance.now() < end) {
    await step(i++)
    events += perStep
  }
  return events / ((performance.now() - start) / 1000)
}

async function hubRates(kind: 'memory' | 'sqlite'): Promise<{ single: number; batched: number }> {
  const { hub } = createServer({ store: storeFor(kind), historySize: 1000 })
  // One live subscriber that drains its queue, so delivery is part of what is measured.
  const subscription = await hub.subscribe([parseSelector('bench/**')])
  let draining = true
  const drain = (async () => {
    while (draining && (await subscription.next()) !== null) {}
  })()
  const single = await rate(1, (i) => hub.publish([{ topic: `bench/${i % TOPICS}`, data: DATA }]))
  const batched = await rate(BATCH, (i) => hub.publish(Array.from({ length: BATCH }, (_, j) => ({ topic: `bench/${(i + j) % TOPICS}`, data: DATA }))))
  draining = false
  subscription.end()
  await drain
  await hub.close()
  return { single, batched }
}

async function httpRates(kind: 'memory' | 'sqlite'): Promise<{ single: number; batched: number }> {
  const { app } = createServer({ store: storeFor(kind), historySize: 1000, host: '127.0.0.1', port: 0 })
  app.listen({ port: 0, hostname: '127.0.0.1' })
  const base = `http://127.0.0.1:${app.server?.port}`
  const post = async (path: string, body: string) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`)
    await response.arrayBuffer()
  }
  const parallel = async (perStep: number, step: (i: number) => Promise<unknown>) => {
    const rates = await Promise.all(Array.from({ length: CONCURRENCY }, (_, worker) => rate(perStep, (i) => step(i * CONCURRENCY + worker))))
    return rates.reduce((sum, value) => sum + value, 0)
  }
  const singleBody = JSON.stringify({ data: DATA })
  const single = await parallel(1, (i) => post(`/topics/bench/${i % TOPICS}`, singleBody))
  const batched = await parallel(BATCH, (i) => post('/publish', JSON.stringify(Array.from({ length: BATCH }, (_, j) => ({ topic: `bench/${(i + j) % TOPICS}`, data: DATA })))))
  await app.stop(true)
  return { single, batched }
}

const format = (value: number) => Math.round(value).toLocaleString('en-US').padStart(10)

console.log(`publish rate: ${SECONDS}s per cell, ${DATA.length}-byte data, batches of ${BATCH}, ${TOPICS} topics, --history 1000`)
console.log(`Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores\n`)
console.log(`${'layer / store'.padEnd(18)} ${'single ev/s'.padStart(12)} ${'batched ev/s'.padStart(12)}`)
for (const layer of ['hub', 'http'] as const) {
  for (const kind of ['memory', 'sqlite'] as const) {
    const { single, batched } = layer === 'hub' ? await hubRates(kind) : await httpRates(kind)
    console.log(`${`${layer} / ${kind}`.padEnd(18)} ${format(single)}   ${format(batched)}`)
  }
}
if (CONCURRENCY > 0) console.log(`\n(http: ${CONCURRENCY} concurrent keep-alive clients in this process; the server shares its core)`)

/**
 * The durable store end to end, across a real `kill -9`: a server process on a sqlite file is
 * killed mid-stream and a new process on the same file serves every acknowledged event.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { SseClient, waitFor } from '../helpers'

const dir = mkdtempSync(join(tmpdir(), 'herald-durable-'))
const children = new Set<Subprocess>()
afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

/** Starts test/fixtures/sqlite-server.ts on `path`; resolves with its base URL once it listens. */
async function startChild(path: string): Promise<{ base: string; child: Subprocess }> {
  const child = Bun.spawn(['bun', join(import.meta.dir, '../fixtures/sqlite-server.ts'), path], { stdout: 'pipe', stderr: 'inherit' })
  children.add(child)
  const reader = child.stdout.getReader()
  let text = ''
  const deadline = Date.now() + 10_000
  while (!text.includes('\n')) {
    if (Date.now() > deadline) throw new Error('the child server did not start')
    const { done, value } = await reader.read()
    if (done) throw new Error(`the child server exited: ${text}`)
    text += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  const { port } = JSON.parse(text.slice(0, text.indexOf('\n'))) as { port: number }
  return { base: `http://127.0.0.1:${port}`, child }
}

async function kill9(child: Subprocess): Promise<void> {
  child.kill('SIGKILL')
  await child.exited
  children.delete(child)
  expect(child.signalCode).toBe('SIGKILL')
}

async function publishTo(base: string, topic: string, data: string): Promise<string> {
  const response = await fetch(`${base}/topics/${topic}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: data })
  expect(response.status).toBe(200)
  return ((await response.json()) as { id: string }).id
}

test('after kill -9, a new process on the same file serves exactly what a client missed, and ids continue', async () => {
  const path = join(dir, 'resume.db')
  const first = await startChild(path)
  const sse = await SseClient.open(`${first.base}/events?topic=durable/*`)
  const sent: { id: string; data: string }[] = []
  for (let i = 0; i < 4; i++) sent.push({ id: await publishTo(first.base, `durable/${i % 2}`, `event ${i}\nsecond line`), data: `event ${i}\nsecond line` })
  await sse.waitForMessages(4)
  sse.close()
  const lastSeen = sse.messages.at(-1)?.id as string
  for (let i = 4; i < 10; i++) sent.push({ id: await publishTo(first.base, `durable/${i % 2}`, `event ${i} ✓`), data: `event ${i} ✓` })
  await kill9(first.child)

  const second = await startChild(path)
  const resumed = await SseClient.open(`${second.base}/events?topic=durable/*`, { 'last-event-id': lastSeen })
  await resumed.waitForMessages(6)
  const newId = await publishTo(second.base, 'durable/1', 'after the restart')
  await resumed.waitForMessages(7)
  resumed.close()
  expect(resumed.messages.map((m) => m.event)).not.toContain('reset')
  expect(resumed.messages.slice(0, 6).map(({ id, data }) => ({ id, data }))).toEqual(sent.slice(4))
  const [lastMs, lastSeq] = (sent.at(-1)?.id as string).split('-').map(Number) as [number, number]
  const [newMs, newSeq] = newId.split('-').map(Number) as [number, number]
  expect(newMs > lastMs || (newMs === lastMs && newSeq > lastSeq)).toBe(true)
  expect(resumed.messages[6]).toMatchObject({ id: newId, data: 'after the restart' })
  await kill9(second.child)
})

test('every publish acknowledged before a kill -9 is served after the restart', async () => {
  const path = join(dir, 'acked.db')
  const first = await startChild(path)
  // Resume from a first event: the file's floor is its creation time, so 0-0 would get a reset.
  const marker = await publishTo(first.base, 'acked', 'marker')
  const acked: string[] = []
  let killed = false
  // Many publishes in flight; the server is killed the moment 150 are acknowledged.
  const inFlight = Array.from({ length: 300 }, async (_, i) => {
    try {
      const response = await fetch(`${first.base}/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic: 'acked', data: i }) })
      if (response.status !== 200) return
      const { events } = (await response.json()) as { events: { id: string }[] }
      if (killed) return
      acked.push(events[0]?.id as string)
      if (acked.length === 150) {
        killed = true
        first.child.kill('SIGKILL')
      }
    } catch {
      // cut off by the kill: never acknowledged, so the store owes nothing
    }
  })
  await Promise.all(inFlight)
  await first.child.exited
  children.delete(first.child)
  expect(acked.length).toBe(150)

  const second = await startChild(path)
  const replay = await SseClient.open(`${second.base}/events?topic=acked`, { 'last-event-id': marker })
  await waitFor(() => replay.messages.length >= acked.length, `${acked.length} replayed events (have ${replay.messages.length})`)
  expect(replay.messages.map((m) => m.event)).not.toContain('reset')
  const stored = new Set(replay.messages.map((m) => m.id))
  expect(acked.filter((id) => !stored.has(id))).toEqual([])
  replay.close()
  await kill9(second.child)
})

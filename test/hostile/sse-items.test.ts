/**
 * Generated hostile values for what a host app's generator route yields through Herald: `sse()`
 * frames and plain `{ data, event, id }` objects. Whatever the values, no field may add an SSE line:
 * a frame is refused (`invalid_event`) or its bytes parse back to exactly the fields given.
 */
import { afterAll, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { herald, sse } from '../../src/index'
import { parseSseBlock } from '../sse-parse'
import { CONTROL_CHARACTERS, INJECTIONS, Rng, SAFE, SEED } from './prng'

function hostileText(rng: Rng): string {
  const parts: string[] = []
  for (let i = rng.int(0, 4); i >= 0; i--) {
    parts.push(rng.chance(0.5) ? rng.pick(INJECTIONS) : rng.chance(0.3) ? rng.pick(CONTROL_CHARACTERS) : rng.string(rng.int(0, 12), `${SAFE}:é🎉 `))
  }
  return parts.join('')
}

/** Lines of text as EventSource gives `data` back: CR, LF and CRLF all end a line (a lone surrogate is written as U+FFFD). */
const asEventSourceData = (text: string) => text.toWellFormed().split(/\r\n|\r|\n/).join('\n')

test(`2000 generated sse() frames either refuse the field or parse back to it exactly (seed ${SEED})`, () => {
  const rng = new Rng(SEED)
  let refused = 0
  for (let i = 0; i < 2000; i++) {
    const fields = { data: rng.chance(0.2) ? { nested: hostileText(rng) } : hostileText(rng), event: rng.chance(0.5) ? hostileText(rng) : undefined, id: rng.chance(0.5) ? hostileText(rng) : undefined }
    let bytes: string
    try {
      bytes = new TextDecoder().decode(sse(fields).toSSE())
    } catch (error) {
      expect((error as { code?: string }).code).toBe('invalid_event')
      expect(/[\r\n\0]/.test(`${fields.event ?? ''}${fields.id ?? ''}`)).toBe(true)
      refused++
      continue
    }
    // One block, ended by the one blank line the frame itself writes.
    expect(bytes.endsWith('\n\n')).toBe(true)
    const block = bytes.slice(0, -2)
    expect(block.includes('\n\n')).toBe(false)
    const parsed = parseSseBlock(block)
    const text = typeof fields.data === 'string' ? fields.data : JSON.stringify(fields.data)
    expect(parsed.data).toBe(asEventSourceData(text))
    if (fields.id !== undefined) expect(parsed.id).toBe(fields.id.toWellFormed())
    if (fields.event) expect(parsed.event).toBe(fields.event.toWellFormed())
  }
  expect(refused).toBeGreaterThan(100)
  expect(refused).toBeLessThan(2000)
})

const apps: { stop(closeActiveConnections?: boolean): Promise<unknown> }[] = []
afterAll(() => Promise.all(apps.map((app) => app.stop(true))))

test(`plain objects with hostile fields in a Herald stream never inject a line (seed ${SEED})`, async () => {
  const rng = new Rng(SEED + 1)
  const cases = Array.from({ length: 60 }, () => ({ data: hostileText(rng), event: rng.chance(0.3) ? hostileText(rng) : undefined, id: rng.chance(0.3) ? hostileText(rng) : undefined }))
  const app = new Elysia()
    .use(herald({ prefix: '/rt', keepAliveMs: 0 }))
    .get('/case/:n', async function* ({ herald, params, request }) {
      const subscription = herald.subscribe('hostile/plain', { request })
      const item = cases[Number(params.n)]
      if (item) yield Object.fromEntries(Object.entries(item).filter(([, value]) => value !== undefined))
      await subscription.return()
    })
    .listen({ port: 0, hostname: '127.0.0.1' })
  apps.push(app)
  for (const [n, item] of cases.entries()) {
    const body = await (await fetch(`http://127.0.0.1:${app.server?.port}/case/${n}`)).text()
    const blocks = body.split('\n\n').filter((block) => block !== '')
    // The opening `retry:` block, then the event, or nothing when a field was refused.
    expect(blocks[0]?.startsWith('retry: ')).toBe(true)
    const bad = /[\r\n\0]/.test(`${item.event ?? ''}${item.id ?? ''}`)
    expect(blocks.length).toBe(bad ? 1 : 2)
    if (bad) continue
    const parsed = parseSseBlock(blocks[1] as string)
    expect(parsed.data).toBe(asEventSourceData(item.data))
    expect(parsed.id).toBe(item.id?.toWellFormed())
  }
})

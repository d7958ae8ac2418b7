import { expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { herald } from '../../src/index'
import { SseClient, waitFor, WsClient } from '../helpers'

/** A host app with Herald at /rt and a generator route of its own, listening on port 0. */
function hostApp() {
  const realtime = herald({ prefix: '/rt' })
  const app = new Elysia()
    .use(realtime)
    .get('/hello', () => 'hello')
    .get('/live', async function* ({ herald, request }) {
      for await (const event of herald.subscribe('stop/t', { request })) yield event
    })
    .listen({ port: 0, hostname: '127.0.0.1' })
  return { app, api: realtime.herald, base: `http://127.0.0.1:${app.server?.port}` }
}

/** Resolves with how long `promise` took, or rejects once `ms` pass. */
async function within(promise: Promise<unknown>, ms: number, what: string): Promise<number> {
  const started = performance.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))
  try {
    await Promise.race([promise, late])
    return performance.now() - started
  } finally {
    clearTimeout(timer)
  }
}

test("a graceful app.stop() ends Herald's open streams and sockets instead of waiting for them forever", async () => {
  const { app, api, base } = hostApp()
  const events = await SseClient.open(`${base}/rt/events?topic=stop/t`)
  const live = await SseClient.open(`${base}/live`)
  const ws = await WsClient.open(`${base.replace('http', 'ws')}/rt/ws`)
  await ws.request({ type: 'subscribe', topics: ['stop/t'] })
  await waitFor(() => api.stats().subscriptions === 2 && events.raw.startsWith('retry:') && live.raw.startsWith('retry:'), 'the streams to start')

  try {
    await within(app.stop(), 5000, 'app.stop()')
  } finally {
    await app.stop(true).catch(() => {})
  }
  await waitFor(() => events.ended && live.ended && ws.closeCode !== undefined, 'every client to be let go')
  expect(events.messages.at(-1)).toMatchObject({ event: 'shutdown', data: '{"reason":"shutdown"}' })
  expect(ws.closeCode).toBe(1001)
  expect(api.stats().subscriptions).toBe(0)
})

test('app.stop(true) still cuts at once, and a stopped app refuses connections', async () => {
  const { app, base } = hostApp()
  const live = await SseClient.open(`${base}/live`)
  await waitFor(() => live.raw.startsWith('retry:'), 'the stream to start')
  await within(app.stop(true), 5000, 'app.stop(true)')
  await waitFor(() => live.ended, 'the stream to end')
  expect(await fetch(`${base}/hello`).then((response) => response.status, () => 'refused')).toBe('refused')
})

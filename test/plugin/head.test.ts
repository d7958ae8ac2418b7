import { afterEach, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { herald } from '../../src/index'
import { SseClient, waitFor, WsClient } from '../helpers'

/**
 * `herald.head` is "a resume position that means from now on": a page renders the state, then
 * subscribes from the head it rendered at. On a Herald that has published nothing yet the head
 * was `0-0`, which the store must answer with a reset (older than its start), so such a page was
 * told to reload at once, and reloaded into the same reset until the first event.
 */
let stop: (() => Promise<unknown>) | undefined
afterEach(async () => {
  await stop?.()
  stop = undefined
})

function fresh(options: Parameters<typeof herald>[0] = {}) {
  const realtime = herald({ prefix: '/rt', ...options })
  const app = new Elysia().use(realtime).listen({ port: 0, hostname: '127.0.0.1' })
  stop = () => app.stop(true)
  return { api: realtime.herald, base: `http://127.0.0.1:${app.server?.port}` }
}

test.each(['memory', 'sqlite::memory:'])('the head of a fresh Herald (%s store) resumes with no reset, from code, SSE and WebSocket', async (store) => {
  const { api, base } = fresh({ store })
  const head = api.head
  expect(head).not.toBe('0-0')

  const fromCode = api.subscribe('fresh/t', { lastEventId: head })
  const firstFromCode = fromCode.next()
  const sse = await SseClient.open(`${base}/rt/events?topic=fresh/t&lastEventId=${head}`)
  const ws = await WsClient.open(`${base.replace('http', 'ws')}/rt/ws`)
  expect((await ws.request({ type: 'subscribe', topics: ['fresh/t'], lastEventId: head })).type).toBe('subscribed')
  await waitFor(() => api.stats().subscriptions >= 2, 'the subscriptions')

  const { id } = await api.publish('fresh/t', 'first')
  expect((await firstFromCode).value).toMatchObject({ type: 'event', id, data: 'first' })
  expect(await sse.waitForMessages(1)).toEqual([{ id, event: 'message', data: 'first' }])
  expect(await ws.waitFor((message) => message.type === 'event', 'the event')).toMatchObject({ id, data: 'first' })
  expect(ws.messages.some((message) => message.type === 'reset')).toBe(false)
  await fromCode.return()
  sse.close()
  ws.close()
})

test('a position from before this Herald started gets its reset at once, not after the next event', async () => {
  const { api } = fresh()
  const subscription = api.subscribe('fresh/t', { lastEventId: '0-0' })
  const first = await Promise.race([subscription.next(), Bun.sleep(2000).then(() => 'nothing within 2 s')])
  expect(first).toMatchObject({ done: false, value: { type: 'reset', head: api.head, lastEventId: '0-0' } })
  await subscription.return()
})

import { afterAll, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { herald, HubError } from '../../src/index'

/**
 * What a host route answers when `herald.*` refuses something and the route lets the error through:
 * the status Herald's own API gives that code and its JSON error body, not Elysia's 500 carrying
 * `{"name":"HubError",…}`. The host's own error hook still decides first.
 */
const app = new Elysia()
  .onError(({ error }) => {
    if (error instanceof HubError && error.code === 'too_many_topics') return `host says: ${error.code}`
  })
  .use(herald({ prefix: '/rt', maxSubscriptionTopics: 2 }))
  .get('/live', async function* ({ herald, request, query }) {
    for await (const event of herald.subscribe(query.topic?.split(',') ?? 'a', { request })) yield event
  })
  .post('/publish', ({ herald, query }) => herald.publish(query.topic ?? 'a', 'x'))
  .post('/caught', async ({ herald }) => {
    try {
      await herald.publish('a//b', 'x')
      return 'published'
    } catch (error) {
      return error instanceof HubError ? `caught ${error.code}` : 'not a HubError'
    }
  })
  .listen({ port: 0, hostname: '127.0.0.1' })
const base = `http://127.0.0.1:${app.server?.port}`
afterAll(() => app.stop(true))

async function answer(path: string, init?: RequestInit): Promise<[number, unknown]> {
  const response = await fetch(`${base}${path}`, init)
  const text = await response.text()
  return [response.status, response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text]
}

test.each([
  ['a malformed Last-Event-ID', '/live', { headers: { 'last-event-id': 'garbage' } }, 400, 'invalid_last_event_id'],
  ['a bad selector', '/live?topic=a//b', undefined, 400, 'invalid_selector'],
  ['a bad topic', '/publish?topic=a//b', { method: 'POST' }, 400, 'invalid_topic'],
] as const)('%s in a host route answers with its status and Herald\'s JSON error', async (_, path, init, status, code) => {
  const [got, body] = await answer(path, init)
  expect(got).toBe(status)
  expect(body).toEqual({ error: { code, message: expect.any(String) } })
})

test("the host's own error hook answers first; code that catches still gets a HubError", async () => {
  expect(await answer('/live?topic=a,b,c')).toEqual([400, 'host says: too_many_topics'])
  expect(await answer('/caught', { method: 'POST' })).toEqual([200, 'caught invalid_topic'])
})

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startServer, type TestServer } from '../helpers'

let server: TestServer
let withCors: TestServer
beforeAll(async () => {
  server = await startServer()
  withCors = await startServer({ corsOrigins: ['https://app.example'] })
})
afterAll(() => Promise.all([server.stop(), withCors.stop()]))

const wrongMethods: [string, string, string][] = [
  ['GET', '/topics/news', 'POST'],
  ['PUT', '/topics/news', 'POST'],
  ['DELETE', '/topics/chat/room-1', 'POST'],
  ['PATCH', '/topics/news', 'POST'],
  ['GET', '/publish', 'POST'],
  ['PUT', '/publish', 'POST'],
  ['DELETE', '/publish', 'POST'],
  ['PATCH', '/publish', 'POST'],
  ['POST', '/events?topic=news', 'GET, HEAD'],
  ['PUT', '/events', 'GET, HEAD'],
  ['POST', '/ws', 'GET, HEAD'],
  ['DELETE', '/ws', 'GET, HEAD'],
  ['POST', '/healthz', 'GET, HEAD'],
]

test.each(wrongMethods)('%s %s answers 405 method_not_allowed with Allow: %s', async (method, path, allow) => {
  for (const target of [server, withCors]) {
    const before = target.hub.stats().published
    const response = await fetch(`${target.base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{"data":"x"}' })
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe(allow)
    const body = (await response.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('method_not_allowed')
    expect(body.error.message).toContain(`${method} is not allowed`)
    expect(target.hub.stats().published).toBe(before)
  }
})

test('HEAD on a POST-only route is 405 with Allow and no body', async () => {
  const response = await fetch(`${server.base}/topics/news`, { method: 'HEAD' })
  expect(response.status).toBe(405)
  expect(response.headers.get('allow')).toBe('POST')
  expect(await response.text()).toBe('')
})

test('OPTIONS without CORS answers 204 with Allow; with CORS the preflight is unchanged', async () => {
  const plain = await fetch(`${server.base}/topics/news`, { method: 'OPTIONS' })
  expect(plain.status).toBe(204)
  expect(plain.headers.get('allow')).toBe('POST, OPTIONS')
  const preflight = await fetch(`${withCors.base}/topics/news`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  })
  expect(preflight.status).toBeLessThan(300)
  expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example')
})

test('paths no route has are still a JSON 404, whatever the method', async () => {
  for (const method of ['GET', 'POST', 'PUT', 'OPTIONS']) {
    const response = await fetch(`${server.base}/nope/${method}`, { method })
    expect(response.status).toBe(404)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found')
  }
  // `/topics` itself (no topic) is not a route.
  expect((await fetch(`${server.base}/topics`)).status).toBe(404)
})

test('the right methods still work', async () => {
  expect((await fetch(`${server.base}/healthz`, { method: 'HEAD' })).status).toBe(200)
  expect((await fetch(`${server.base}/topics/news`, { method: 'POST', body: '{"data":1}', headers: { 'content-type': 'application/json' } })).status).toBe(200)
})

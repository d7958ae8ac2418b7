import { afterAll, expect, test } from 'bun:test'
import { startServer, type TestServer } from '../helpers'

const servers: TestServer[] = []
afterAll(() => Promise.all(servers.map((server) => server.stop())))

test('without --cors-origins, other origins get no CORS headers', async () => {
  const server = await startServer()
  servers.push(server)
  const response = await fetch(`${server.base}/healthz`, { headers: { origin: 'https://elsewhere.example' } })
  expect(response.headers.get('access-control-allow-origin')).toBeNull()
})

test('a configured origin may publish cross-origin (preflight and request); others may not', async () => {
  const server = await startServer({ corsOrigins: ['https://app.example'] })
  servers.push(server)
  const preflight = await fetch(`${server.base}/topics/news`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  })
  expect(preflight.status).toBeLessThan(300)
  expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example')
  expect(preflight.headers.get('access-control-allow-methods')).toContain('POST')

  const allowed = await fetch(`${server.base}/topics/news`, { method: 'POST', headers: { origin: 'https://app.example', 'content-type': 'text/plain' }, body: 'x' })
  expect(allowed.status).toBe(200)
  expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example')

  const other = await fetch(`${server.base}/healthz`, { headers: { origin: 'https://evil.example' } })
  expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example')
})

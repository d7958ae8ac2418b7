import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SseClient, startServer, type TestServer, waitFor } from './helpers'

let dir: string
let server: TestServer
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-static-'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>my app</title><script src="/app.js"></script>')
  writeFileSync(join(dir, 'app.js'), "new EventSource('/events?topic=mine')")
  mkdirSync(join(dir, 'img'))
  writeFileSync(join(dir, 'img', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  server = await startServer({ staticDir: dir })
})
afterAll(async () => {
  await server.stop()
  rmSync(dir, { recursive: true, force: true })
})

test('--static serves your folder at /, beside the hub on the same origin', async () => {
  const index = await fetch(`${server.base}/`)
  expect(index.status).toBe(200)
  expect(await index.text()).toContain('<title>my app</title>')
  const script = await fetch(`${server.base}/app.js`)
  expect(script.headers.get('content-type')).toContain('javascript')
  expect(await script.text()).toContain('EventSource')
  expect((await fetch(`${server.base}/img/logo.svg`)).status).toBe(200)
})

test("Herald's routes and pages keep their paths; files are read at request time", async () => {
  const stream = await SseClient.open(`${server.base}/events?topic=mine`)
  await waitFor(() => stream.raw.startsWith('retry:'), 'the stream')
  stream.close()
  expect((await fetch(`${server.base}/chat.html`)).status).toBe(200)
  expect((await fetch(`${server.base}/healthz`)).status).toBe(200)
  writeFileSync(join(dir, 'app.js'), "console.log('edited')")
  expect(await (await fetch(`${server.base}/app.js`)).text()).toBe("console.log('edited')")
})

test('a path outside the folder is not served, and a missing file is the JSON 404', async () => {
  for (const path of ['/../etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd', '/img/..%2f..%2f..%2fetc%2fhostname', '/%2e%2e%2f%2e%2e%2fetc/passwd']) {
    const response = await fetch(`${server.base}${path}`)
    expect(response.status).toBe(404)
  }
  const missing = await fetch(`${server.base}/nope.html`)
  expect(missing.status).toBe(404)
  expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found')
})

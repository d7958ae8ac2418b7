import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Glob } from 'bun'
import { PAGES } from '../../src/demos/pages'
import { startServer, type TestServer } from '../helpers'

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.stop())

test('every page and asset is served with its content type, byte for byte', async () => {
  for (const [url, asset] of Object.entries(PAGES)) {
    const response = await fetch(`${server.base}${url}`, { headers: { 'accept-encoding': 'identity' } })
    expect({ url, status: response.status, type: response.headers.get('content-type') }).toEqual({ url, status: 200, type: asset.type })
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(new Uint8Array(await Bun.file(asset.path).arrayBuffer()))
  }
})

test('pages forbid inline script (CSP); other files do not need the header', async () => {
  for (const url of ['/', '/heartbeat.html', '/chat.html', '/feed']) {
    const response = await fetch(`${server.base}${url}`)
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self';")
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
  }
  expect((await fetch(`${server.base}/assets/herald.css`)).headers.get('content-security-policy')).toBeNull()
})

test('the vendored browser code is the npm packages\' own files', async () => {
  const served = async (url: string) => (await fetch(`${server.base}${url}`)).text()
  expect(await served('/vendor/htmx.min.js')).toBe(await Bun.file('node_modules/htmx.org/dist/htmx.min.js').text())
  expect(await served('/vendor/htmx-ext-sse.js')).toBe(await Bun.file('node_modules/htmx-ext-sse/dist/sse.js').text())
  expect(await served('/vendor/idiomorph-ext.min.js')).toBe(await Bun.file('node_modules/idiomorph/dist/idiomorph-ext.min.js').text())
})

test('a revalidation with the ETag answers 304; large text is gzipped', async () => {
  const first = await fetch(`${server.base}/vendor/htmx.min.js`)
  const etag = first.headers.get('etag') as string
  expect(first.headers.get('cache-control')).toBe('public, max-age=86400')
  const again = await fetch(`${server.base}/vendor/htmx.min.js`, { headers: { 'if-none-match': etag } })
  expect(again.status).toBe(304)
  const raw = await fetch(`${server.base}/assets/herald.css`, { headers: { 'accept-encoding': 'gzip' }, decompress: false })
  expect(raw.headers.get('content-encoding')).toBe('gzip')
})

test('nothing is loaded from a CDN or any other site', async () => {
  const offenders: string[] = []
  for (const pattern of ['public/**/*', 'src/**/*.ts']) {
    for await (const file of new Glob(pattern).scan('.')) {
      const text = await Bun.file(file).text()
      if (/unpkg|jsdelivr|cdnjs|esm\.sh|skypack|googleapis|cloudflare/i.test(text)) offenders.push(`${file}: CDN`)
      // Pages may not name any http(s) address (an SVG's namespace is a name, not a fetch).
      if (file.startsWith('public/') && /https?:\/\/(?!www\.w3\.org\/2000\/svg")/.test(text)) offenders.push(`${file}: URL`)
    }
  }
  expect(offenders).toEqual([])
})

test('pages are hidden from the OpenAPI document; the streams and the feed are in it', async () => {
  const spec = (await (await fetch(`${server.base}/swagger/json`)).json()) as { paths: Record<string, unknown> }
  expect(Object.keys(spec.paths)).not.toContain('/chat.html')
  expect(Object.keys(spec.paths)).not.toContain('/vendor/htmx.min.js')
  for (const path of ['/streams/heartbeat', '/streams/clock', '/streams/metrics', '/streams/launch', '/feed/posts']) expect(Object.keys(spec.paths)).toContain(path)
})

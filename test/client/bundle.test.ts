/**
 * The browser bundle the server serves at /client/herald.js: built from src/client/ and up to date,
 * one ES module that imports nothing, small, and working when imported as served.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildClient, CLIENT_BUNDLE } from '../../scripts/build-client'
import { startServer, type TestServer, waitFor } from '../helpers'

/** The budget, minified and gzipped: a page pays this once (then 304s). */
const MAX_GZIPPED = 6 * 1024

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.stop())

test('the checked-in bundle is what src/client builds to (run `bun scripts/build-client.ts` after editing src/client)', async () => {
  expect(await Bun.file(CLIENT_BUNDLE).text()).toBe(await buildClient())
})

test('one ES module importing nothing, within its size budget', async () => {
  const code = await Bun.file(CLIENT_BUNDLE).text()
  const scan = new Bun.Transpiler({ loader: 'js' }).scan(code)
  expect(scan.imports).toEqual([])
  expect(scan.exports.sort()).toEqual(['HeraldError', 'connect'])
  const gzipped = Bun.gzipSync(code).length
  console.log(`client bundle: ${code.length} bytes minified, ${gzipped} gzipped`)
  expect(gzipped).toBeLessThanOrEqual(MAX_GZIPPED)
})

test('served at /client/herald.js as JavaScript, and the served module works', async () => {
  const response = await fetch(`${server.base}/client/herald.js`)
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
  const dir = mkdtempSync(join(tmpdir(), 'herald-client-'))
  try {
    const file = join(dir, 'herald.js')
    writeFileSync(file, await response.text())
    const served = (await import(file)) as typeof import('../../src/client/index')
    const herald = served.connect({ url: server.base })
    let open = false
    const items = herald.subscribe('bundle/check', { onOpen: () => (open = true) })
    const first = items.next()
    await waitFor(() => open, 'the subscription')
    const published = await herald.publish('bundle/check', { ok: true })
    const { value } = await first
    expect(value).toEqual({ type: 'event', topic: 'bundle/check', id: published.id, event: 'message', data: { ok: true }, text: '{"ok":true}' })
    await items.return()
    const error = await herald.publish('bad topic', 1).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(served.HeraldError)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

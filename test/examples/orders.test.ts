/**
 * examples/orders/app.ts as a user runs it: `bun examples/orders/app.ts` in its own process on a
 * free port, driven over HTTP and in Chromium, then stopped with SIGTERM.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Subprocess } from 'bun'
import type { Browser } from 'playwright-core'
import { launchBrowser, openPage, screenshot, VIEWPORTS } from '../browser/browser'
import { SseClient, waitFor } from '../helpers'

interface Order {
  id: string
  item: string
  status: string
}

let child: Subprocess<'ignore', 'pipe', 'pipe'>
let base: string
let stdout = ''
let stderr = ''

/** Collects a pipe's text into `sink` as it arrives. */
async function collect(stream: ReadableStream<Uint8Array>, sink: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder()
  const reader = stream.getReader()
  for (let read = await reader.read(); !read.done; read = await reader.read()) sink(decoder.decode(read.value, { stream: true }))
}

beforeAll(async () => {
  child = Bun.spawn(['bun', 'examples/orders/app.ts'], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1' }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  void collect(child.stdout, (text) => (stdout += text))
  void collect(child.stderr, (text) => (stderr += text))
  const url = (await waitFor(() => /listening on (http:\/\/\S+)/.exec(stdout)?.[1] ?? (child.exitCode !== null ? `exited ${child.exitCode}` : undefined), 'the example to log its URL', 15_000)) as string
  if (!url.startsWith('http')) throw new Error(`the example did not start (${url}): ${stderr}`)
  base = url.replace(/\/$/, '')
})

afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL')
})

const json = async <T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
  const response = await fetch(`${base}${path}`, init)
  return { status: response.status, body: (await response.json()) as T }
}
const ship = (id: string) => json<Order | { message: string }>(`/orders/${id}/ship`, { method: 'POST' })
/** Publishes through Herald's own HTTP API at /rt, as any other publisher could. */
async function publishNote(topic: string, data: string): Promise<string> {
  const response = await fetch(`${base}/rt/topics/${topic}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data, event: 'note' }) })
  expect(response.status).toBe(200)
  return ((await response.json()) as { id: string }).id
}
const frame = (id: string, event: string, data: string) => `id: ${id}\nevent: ${event}\n${data.split('\n').map((line) => `data: ${line}\n`).join('')}\n`

describe('the orders example, run as a process', () => {
  test('logs the URL it listens on, and serves its page with no third-party script', async () => {
    expect(stdout).toMatch(/^Orders example listening on http:\/\/127\.0\.0\.1:\d+\/\n$/)
    const page = await fetch(`${base}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toStartWith('text/html')
    const html = await page.text()
    expect(html).toContain('new EventSource(')
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="(https?:)?\/\//)
  })

  test("the app's own routes and errors are its own", async () => {
    const list = await json<Order[]>('/orders')
    expect(list.status).toBe(200)
    expect(list.body.map((order) => [order.id, order.status])).toEqual([
      ['1', 'placed'],
      ['2', 'placed'],
      ['3', 'placed'],
      ['4', 'placed'],
    ])
    expect(await json('/orders/9')).toEqual({ status: 404, body: { message: 'no order 9' } })
    expect(await ship('9')).toEqual({ status: 404, body: { message: 'no order 9' } })
    // The live route of an unknown order is the same 404, not a stream.
    const live = await fetch(`${base}/orders/9/live`)
    expect(live.status).toBe(404)
    expect(await live.json()).toEqual({ message: 'no order 9' })
    // A Last-Event-ID Herald cannot parse is refused as Herald's API refuses it, not as a 500.
    const garbage = await fetch(`${base}/orders/1/live`, { headers: { 'last-event-id': 'garbage' } })
    expect(garbage.status).toBe(400)
    expect(((await garbage.json()) as { error: { code: string } }).error.code).toBe('invalid_last_event_id')
    // An unknown path is Elysia's 404, untouched by Herald.
    const missing = await fetch(`${base}/nope`)
    expect([missing.status, await missing.text()]).toEqual([404, 'NOT_FOUND'])
  })

  test('the live route sends the order, then the shipping event as an exact SSE frame with its id', async () => {
    const live = await SseClient.open(`${base}/orders/1/live`)
    expect(live.headers.get('content-type')).toStartWith('text/event-stream')
    const [snapshot] = await live.waitForMessages(1)
    expect(snapshot?.event).toBe('status')
    expect(JSON.parse(snapshot?.data ?? '')).toEqual({ id: '1', item: 'Blue teapot', status: 'placed' })
    expect(snapshot?.id).toMatch(/^\d+-\d+$/)
    expect(live.raw).toStartWith('retry: ')

    const shipped = await ship('1')
    expect(shipped).toEqual({ status: 200, body: { id: '1', item: 'Blue teapot', status: 'shipped' } })
    const [, change] = await live.waitForMessages(2)
    expect(change?.id).toMatch(/^\d+-\d+$/)
    expect(live.raw).toEndWith(frame(change?.id ?? '', 'status', '{"id":"1","item":"Blue teapot","status":"shipped"}'))

    // Shipping twice is the app's 409, and publishes nothing.
    expect(await ship('1')).toEqual({ status: 409, body: { message: 'order 1 has already shipped' } })
    const note = await publishNote('orders/1', 'after the 409')
    expect((await live.waitForMessages(3)).map((event) => event.id)).toEqual([snapshot?.id, change?.id, note])
    live.close()
  })

  test('a reconnect with Last-Event-ID gets what it missed, once each and in order, and then live events', async () => {
    const first = await SseClient.open(`${base}/orders/2/live`)
    await first.waitForMessages(1)
    const seen = await publishNote('orders/2', 'line one\nline two\r\nline three')
    await first.waitForMessages(2)
    first.close()

    // Missed while away: the shipping (a host route) and a note (Herald's HTTP API).
    const shipped = await ship('2')
    expect(shipped.status).toBe(200)
    const afterShip = await publishNote('orders/2', 'while away')

    const resumed = await SseClient.open(`${base}/orders/2/live`, { 'last-event-id': seen })
    const missed = await resumed.waitForMessages(2)
    const live = await publishNote('orders/2', 'back')
    const all = await resumed.waitForMessages(3)
    expect(all.map(({ event, data }) => [event, data])).toEqual([
      ['status', '{"id":"2","item":"Six mugs","status":"shipped"}'],
      ['note', 'while away'],
      ['note', 'back'],
    ])
    expect(all.map((event) => event.id)).toEqual([missed[0]?.id, afterShip, live])
    expect(resumed.raw).toContain(frame(afterShip, 'note', 'while away'))
    // Every line of multi-line data is its own data: line (seen by the first stream).
    expect(first.raw).toContain(frame(seen, 'note', 'line one\nline two\nline three'))
    await Bun.sleep(100)
    expect(resumed.messages).toHaveLength(3)
    resumed.close()
  })

  test('a position Herald cannot serve gets the order afresh, and the stream goes on from the head', async () => {
    const stream = await SseClient.open(`${base}/orders/2/live`, { 'last-event-id': '1-0' })
    const [fresh] = await stream.waitForMessages(1)
    expect(fresh?.event).toBe('status')
    expect(JSON.parse(fresh?.data ?? '')).toMatchObject({ id: '2', status: 'shipped' })
    const next = await publishNote('orders/2', 'next')
    expect((await stream.waitForMessages(2))[1]).toEqual({ id: next, event: 'note', data: 'next' })
    stream.close()
  })

  test("Herald's own routes answer under /rt, with Herald's errors", async () => {
    const health = await json<{ status: string }>('/rt/healthz')
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } })
    const stats = await json<{ published: number }>('/rt/stats')
    expect(stats.body.published).toBeGreaterThan(0)
    const bad = await json<{ error: { code: string } }>('/rt/topics/orders%2F%2F1', { method: 'POST', body: '{"data":1}', headers: { 'content-type': 'application/json' } })
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'invalid_topic' } } })
    const events = await SseClient.open(`${base}/rt/events?topic=orders/*`)
    await waitFor(() => events.raw.startsWith('retry:'), 'the stream to start')
    expect((await ship('3')).status).toBe(200)
    const [shipped] = await events.waitForMessages(1)
    expect(shipped).toMatchObject({ event: 'status', data: '{"id":"3","item":"Tea cosy","status":"shipped"}' })
    events.close()
  })
})

describe('the orders page in Chromium', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
  })

  test('shows the status and changes it live when the order ships, on every open page; an unknown order says so', async () => {
    const shipper = await openPage(browser, `${base}/?order=4`)
    const watcher = await openPage(browser, `${base}/?order=4`, VIEWPORTS.phone)
    const missing = await openPage(browser, `${base}/?order=9`)
    try {
      for (const { page } of [shipper, watcher]) {
        await page.locator('#status', { hasText: 'placed' }).waitFor({ timeout: 5000 })
        expect(await page.locator('#item').textContent()).toBe('Kettle')
        expect(await page.locator('#ship').isEnabled()).toBe(true)
      }
      await screenshot(shipper.page, 'orders-placed')

      await shipper.page.locator('#ship').click()
      // The other page (its own browser context) learns it from the live stream alone.
      await watcher.page.locator('#status.shipped', { hasText: 'shipped' }).waitFor({ timeout: 5000 })
      await shipper.page.locator('#status.shipped', { hasText: 'shipped' }).waitFor({ timeout: 5000 })
      expect(await watcher.page.locator('#ship').isDisabled()).toBe(true)
      expect((await json<Order>('/orders/4')).body.status).toBe('shipped')
      await screenshot(shipper.page, 'orders-shipped')
      await screenshot(watcher.page, 'orders-shipped-phone')

      await missing.page.locator('#summary', { hasText: 'There is no such order.' }).waitFor({ timeout: 5000 })
      await screenshot(missing.page, 'orders-not-found')
      expect([...shipper.errors, ...watcher.errors]).toEqual([])
    } finally {
      await Promise.all([shipper, watcher, missing].map(({ context }) => context.close()))
    }
  })
})

describe('stopping', () => {
  test('SIGTERM ends the open streams and the process exits with 0', async () => {
    const live = await SseClient.open(`${base}/orders/1/live`)
    await live.waitForMessages(1)
    child.kill('SIGTERM')
    const code = await Promise.race([child.exited, Bun.sleep(10_000).then(() => 'still running after 10 s')])
    expect(code).toBe(0)
    await waitFor(() => live.ended, 'the stream to end')
    expect(stderr).toBe('')
  })
})

import { expect, test } from 'bun:test'
import { browserSuite, screenshot, VIEWPORTS } from './browser'

const suite = browserSuite()

test('the heartbeat page gains a list item per message', async () => {
  // The page passes its ?interval= on to /streams/heartbeat: 100 ms is the shortest allowed.
  const { context, page, errors } = await suite.open('/heartbeat.html?interval=100')
  try {
    await page.waitForFunction(() => document.querySelectorAll('#beats li').length >= 4, undefined, { timeout: 5000 })
    const items = await page.locator('#beats li span').allInnerTexts()
    expect(items.slice(0, 4)).toEqual(['Hello!', 'Hello!', 'Hello!', 'Hello!'])
    expect(await page.locator('#status').innerText()).toBe('Connected')
    expect(await page.locator('#every').innerText()).toBe('every 0.1 seconds')
    expect(await page.locator('#empty').isVisible()).toBe(false)
    expect(Number(await page.locator('#count').innerText())).toBeGreaterThanOrEqual(4)
    await screenshot(page, 'heartbeat-laptop')
    await page.setViewportSize(VIEWPORTS.phone)
    await screenshot(page, 'heartbeat-phone')
    expect(errors).toEqual([])
  } finally {
    await context.close()
  }
})

test.each([
  ['', 'every 2 seconds'],
  ['1000', 'every 1 second'],
  ['60000', 'every 60 seconds'],
])('?interval=%s is accepted and described as %s', async (interval, described) => {
  const { context, page, errors } = await suite.open(`/heartbeat.html?interval=${interval}`)
  try {
    await page.locator('#status[data-state="open"]').waitFor({ timeout: 5000 })
    expect(await page.locator('#every').innerText()).toBe(described)
    await page.locator('#beats li').first().waitFor({ timeout: 5000 })
    expect(errors).toEqual([])
  } finally {
    await context.close()
  }
})

// The server's rule (test/streams/builtin.test.ts checks the same values get 400 there).
test.each([['5'], ['99'], ['60001'], ['abc'], ['1.5'], ['-200'], ['1e3'], ['0x64'], [' 100'], ['9'.repeat(40)]])('?interval=%s is refused with one clear message, and nothing connects', async (interval) => {
  const { context, page, errors } = await suite.open(`/heartbeat.html?interval=${encodeURIComponent(interval)}`)
  try {
    const requests: string[] = []
    page.on('request', (request) => requests.push(request.url()))
    await page.locator('#status[data-state="error"]').waitFor({ timeout: 5000 })
    const status = await page.locator('#status').innerText()
    expect(status).toStartWith('Refused: ?interval=')
    expect(status).toEndWith('is not allowed. Use whole milliseconds from 100 to 60000.')
    // Nothing contradicts it: no made-up speed, no "waiting", no beats, no stream opened.
    const text = await page.locator('main').innerText()
    expect(text).not.toContain('Waiting')
    expect(text).not.toMatch(/every [\d.]+ second/)
    expect(await page.locator('#beats li').count()).toBe(0)
    expect(await page.evaluate(() => performance.getEntriesByType('resource').some((entry) => entry.name.includes('/streams/heartbeat')))).toBe(false)
    expect(requests.filter((url) => url.includes('/streams/'))).toEqual([])
    if (interval === '5') {
      await screenshot(page, 'heartbeat-refused-laptop')
      await page.setViewportSize(VIEWPORTS.phone)
      await screenshot(page, 'heartbeat-refused-phone')
    }
    expect(errors).toEqual([])
  } finally {
    await context.close()
  }
})

test('whatever the stream sends (huge, empty, markup, odd event names), the page shows it as short text and throws nothing', async () => {
  const { context, page, errors } = await suite.open('/heartbeat.html')
  try {
    // The real stream only says "Hello!"; a proxy or a bug could send anything: serve it instead.
    const body = ['retry: 60000', '', 'data: ', '', `data: ${'x'.repeat(100_000)}`, '', 'data: <img src=x onerror="window.pwned=true">', '', 'event: other', 'data: not for this page', '', 'data: line 1', 'data: line 2', '', ''].join('\n')
    await page.route('**/streams/heartbeat', (route) => route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' }, body }))
    await page.reload()
    await page.waitForFunction(() => document.querySelectorAll('#beats li').length >= 4, undefined, { timeout: 5000 })
    const items = await page.locator('#beats li span').allTextContents()
    expect(items.slice(0, 4)).toEqual(['line 1\nline 2', '<img src=x onerror="window.pwned=true">', `${'x'.repeat(200)}…`, ''])
    expect(await page.locator('#beats img').count()).toBe(0)
    expect(await page.evaluate(() => (window as { pwned?: boolean }).pwned)).toBeUndefined()
    expect(errors).toEqual([])
  } finally {
    await context.close()
  }
})

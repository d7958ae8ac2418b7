import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Browser } from 'playwright-core'
import { startServer, type TestServer } from '../helpers'
import { launchBrowser, openPage, screenshot, VIEWPORTS } from './browser'

let server: TestServer
let browser: Browser
beforeAll(async () => {
  ;[server, browser] = await Promise.all([startServer({ feedDb: ':memory:' }), launchBrowser()])
})
afterAll(async () => {
  await browser?.close()
  await server?.stop()
})

test('the index shows the built-in streams live: clock, metrics, and a launch', async () => {
  const { context, page, errors } = await openPage(browser, `${server.base}/`)
  try {
    await page.waitForFunction(() => document.getElementById('clock')?.textContent === '1 s', undefined, { timeout: 5000 })
    await page.waitForFunction(() => /%$/.test(document.getElementById('cpu')?.textContent ?? ''))
    expect(await page.locator('#rss').innerText()).toMatch(/^\d+ MB$/)
    await page.click('#launch-button')
    await page.waitForFunction(() => document.getElementById('launch')?.textContent?.startsWith('Liftoff!'), undefined, { timeout: 5000 })
    // The terminal command shows this server's address, not a placeholder.
    expect(await page.locator('pre').innerText()).toContain(`${server.base}/events?topic=news`)
    await screenshot(page, 'index-laptop')
    await page.setViewportSize(VIEWPORTS.phone)
    await screenshot(page, 'index-phone')
    expect(errors).toEqual([])
  } finally {
    await context.close()
  }
})

test('every link and script on every page resolves', async () => {
  const { context, page, errors } = await openPage(browser, `${server.base}/`)
  try {
    for (const path of ['/', '/heartbeat.html', '/chat.html', '/feed']) {
      await page.goto(`${server.base}${path}`)
      const urls = await page.evaluate(() => Array.from(document.querySelectorAll('a[href], link[href], script[src]')).map((element) => (element as HTMLAnchorElement).href || (element as HTMLScriptElement).src))
      const local = [...new Set(urls.filter((url) => url.startsWith(server.base)))]
      expect(local.length).toBeGreaterThan(3)
      for (const url of local) {
        const response = await fetch(url.split('#')[0] as string, { signal: AbortSignal.timeout(2000) }).catch(() => undefined)
        // Streams answer 200 and keep going; only the status matters here.
        expect({ url, status: response?.status }).toEqual({ url, status: 200 })
        await response?.body?.cancel()
      }
      expect(urls.filter((url) => !url.startsWith(server.base))).toEqual([])
    }
    expect(errors).toEqual([])
  } finally {
    await context.close()
  }
})

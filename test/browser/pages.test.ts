import { expect, test } from 'bun:test'
import { browserSuite, screenshot, VIEWPORTS } from './browser'

const suite = browserSuite()

test('the index shows the built-in streams live: clock, metrics, and a launch', async () => {
  const { context, page, errors } = await suite.open('/')
  try {
    await page.waitForFunction(() => document.getElementById('clock')?.textContent === '1 s', undefined, { timeout: 5000 })
    await page.waitForFunction(() => /%$/.test(document.getElementById('cpu')?.textContent ?? ''))
    expect(await page.locator('#rss').innerText()).toMatch(/^\d+ MB$/)
    await page.click('#launch-button')
    await page.waitForFunction(() => document.getElementById('launch')?.textContent?.startsWith('Liftoff!'), undefined, { timeout: 5000 })
    // The terminal command shows this server's address, not a placeholder.
    expect(await page.locator('pre').innerText()).toContain(`${suite.base}/events?topic=news`)
    await screenshot(page, 'index-laptop')
    await page.setViewportSize(VIEWPORTS.phone)
    await screenshot(page, 'index-phone')
    expect(errors).toEqual([])
  } finally {
    await context.close()
  }
})

test('every link and script on every page resolves', async () => {
  const { context, page, errors } = await suite.open('/')
  try {
    for (const path of ['/', '/heartbeat.html', '/chat.html', '/feed']) {
      await page.goto(`${suite.base}${path}`)
      const urls = await page.evaluate(() => Array.from(document.querySelectorAll('a[href], link[href], script[src]')).map((element) => (element as HTMLAnchorElement).href || (element as HTMLScriptElement).src))
      const local = [...new Set(urls.filter((url) => url.startsWith(suite.base)))]
      expect(local.length).toBeGreaterThan(3)
      for (const url of local) {
        const response = await fetch(url.split('#')[0] as string, { signal: AbortSignal.timeout(2000) }).catch(() => undefined)
        // Streams answer 200 and keep going; only the status matters here.
        expect({ url, status: response?.status }).toEqual({ url, status: 200 })
        await response?.body?.cancel()
      }
      expect(urls.filter((url) => !url.startsWith(suite.base))).toEqual([])
    }
    expect(errors).toEqual([])
  } finally {
    await context.close()
  }
})

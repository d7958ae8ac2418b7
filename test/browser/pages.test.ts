import { expect, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { API_INFO } from '../../src/api/docs'
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

test('the index shows what is published to news, live, through the client at /client/herald.js', async () => {
  const { context, page, errors } = await suite.open('/')
  try {
    await page.locator('#news-status[data-state="open"]').waitFor({ timeout: 5000 })
    const loaded = await page.evaluate(() => performance.getEntriesByType('resource').map((entry) => new URL(entry.name).pathname))
    expect(loaded).toContain('/client/herald.js')
    expect(await page.locator('#news-empty').isVisible()).toBe(true)
    const long = `${'x'.repeat(300)}<b>not bold</b>`
    for (const data of ['Hello, Herald!', { json: true }, long, ...Array.from({ length: 5 }, (_, i) => `later ${i}`)]) await suite.hub.publish([{ topic: 'news', data }])
    await page.locator('#news li', { hasText: 'later 4' }).waitFor({ timeout: 5000 })
    expect(await page.locator('#news li').allInnerTexts()).toEqual(['later 4', 'later 3', 'later 2', 'later 1', 'later 0'])
    expect(await page.locator('#news-empty').isHidden()).toBe(true)
    expect(await page.locator('#news b').count()).toBe(0)
    expect(errors).toEqual([])
  } finally {
    await context.close()
  }
})

test('the index cuts long news short and shows markup as text', async () => {
  const { context, page, errors } = await suite.open('/')
  try {
    await page.locator('#news-status[data-state="open"]').waitFor({ timeout: 5000 })
    await suite.hub.publish([{ topic: 'news', data: `<img src=x onerror="window.pwned=true">${'y'.repeat(300)}` }])
    await page.locator('#news li', { hasText: '<img src=x' }).waitFor({ timeout: 5000 })
    const text = await page.locator('#news li').first().innerText()
    expect(text).toBe(`<img src=x onerror="window.pwned=true">${'y'.repeat(200 - 39)}…`)
    expect(await page.locator('#news img').count()).toBe(0)
    expect(await page.evaluate(() => (window as { pwned?: boolean }).pwned)).toBeUndefined()
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

/** Serves `blocks` (SSE event blocks) in place of the stream at `path` on this page. */
async function serveStream(page: Page, path: string, blocks: string[]): Promise<void> {
  const body = `retry: 60000\n\n${blocks.map((block) => `${block}\n\n`).join('')}`
  await page.route(`**${path}`, (route) => route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' }, body }))
}

test('the index shows nothing bogus and throws nothing, whatever its streams send', async () => {
  const { context, page, errors } = await suite.open('/')
  try {
    const huge = 'x'.repeat(100_000)
    await serveStream(page, '/streams/clock', ['data: 7', 'data: not a number', `data: ${huge}`, 'data: -1', 'data: <b>9</b>', 'data: 1e3', 'data:', 'data: 8'])
    await serveStream(page, '/streams/metrics', [
      'event: metrics\ndata: {"cpu":{"percent":12.34},"memory":{"rss":104857600}}',
      'event: metrics\ndata: not json',
      'event: metrics\ndata: null',
      'event: metrics\ndata: []',
      'event: metrics\ndata: {"cpu":null,"memory":"x"}',
      'event: metrics\ndata: {"cpu":{"percent":"50"},"memory":{"rss":-5}}',
      'event: metrics\ndata: {"cpu":{"percent":1e400},"memory":{"rss":{"valueOf":1}}}',
      `event: metrics\ndata: ${huge}`,
      'event: metrics\ndata: {"cpu":{"percent":7},"memory":{"rss":209715200}}',
    ])
    await serveStream(page, '/streams/launch', ['id: 1\ndata: T-minus 3', `data: ${huge}`, 'data: <img src=x onerror="window.pwned=true">', 'event: liftoff\ndata: anything at all'])
    // Record every text the live numbers take, so a bogus value shown for a moment is caught too.
    await page.addInitScript(() => {
      const seen: Record<string, string[]> = { clock: [], cpu: [], rss: [], launch: [] }
      ;(window as unknown as { seen: typeof seen }).seen = seen
      new MutationObserver(() => {
        for (const [id, values] of Object.entries(seen)) {
          const text = document.getElementById(id)?.textContent
          if (text !== undefined && text !== null && values.at(-1) !== text) values.push(text)
        }
      }).observe(document, { subtree: true, childList: true, characterData: true })
    })
    await page.reload()
    // Each stream ends with a good value, so once it shows, everything before it was handled.
    await page.waitForFunction(() => document.getElementById('clock')?.textContent === '8 s', undefined, { timeout: 5000 })
    await page.waitForFunction(() => document.getElementById('cpu')?.textContent === '7.0%', undefined, { timeout: 5000 })
    await page.click('#launch-button')
    await page.waitForFunction(() => document.getElementById('launch')?.textContent === 'Liftoff!', undefined, { timeout: 5000 })
    expect(await page.locator('#launch-button').isEnabled()).toBe(true)
    const seen = await page.evaluate(() => (window as unknown as { seen: Record<string, string[]> }).seen)
    expect(seen).toEqual({ clock: ['…', '7 s', '8 s'], cpu: ['…', '12.3%', '7.0%'], rss: ['…', '100 MB', '200 MB'], launch: ['Ready', 'T-minus 3', 'Liftoff!'] })
    expect(await page.evaluate(() => (window as { pwned?: boolean }).pwned)).toBeUndefined()
    expect(errors).toEqual([])
  } finally {
    await context.close()
  }
})

test('the Swagger page works under the pages\' CSP, and its meta description is whole', async () => {
  const { context, page, errors } = await suite.open('/swagger')
  try {
    // Swagger UI rendered the document: the publish endpoints are listed.
    await page.locator('.opblock-summary-path', { hasText: '/topics/{topic}' }).first().waitFor({ timeout: 10_000 })
    expect(await page.locator('meta[name="description"]').getAttribute('content')).toBe(API_INFO.description)
    expect(await page.locator('meta[property="og:description"]').getAttribute('content')).toBe(API_INFO.description)
    expect(await page.title()).toBe('Herald')
    // "Try it out" still works under the policy.
    await page.locator('.opblock-summary-path', { hasText: '/healthz' }).click()
    await page.locator('button.try-out__btn').click()
    await page.locator('button.execute').click()
    await page.locator('.live-responses-table .response-col_status', { hasText: '200' }).first().waitFor({ timeout: 5000 })
    await screenshot(page, 'swagger-laptop')
    await page.setViewportSize(VIEWPORTS.phone)
    await screenshot(page, 'swagger-phone')
    expect(errors).toEqual([])
  } finally {
    await context.close()
  }
})

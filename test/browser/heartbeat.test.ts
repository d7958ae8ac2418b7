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
    expect(Number(await page.locator('#count').innerText())).toBeGreaterThanOrEqual(4)
    await screenshot(page, 'heartbeat-laptop')
    await page.setViewportSize(VIEWPORTS.phone)
    await screenshot(page, 'heartbeat-phone')
    expect(errors).toEqual([])
  } finally {
    await context.close()
  }
})

test('an interval out of bounds is refused, and the page says so', async () => {
  const { context, page } = await suite.open('/heartbeat.html?interval=5')
  try {
    await page.locator('#status[data-state="error"]').waitFor({ timeout: 5000 })
    expect(await page.locator('#status').innerText()).toContain('Refused')
    expect(await page.locator('#beats li').count()).toBe(0)
  } finally {
    await context.close()
  }
})

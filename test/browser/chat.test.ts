import { expect, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { browserSuite, screenshot, VIEWPORTS } from './browser'

const suite = browserSuite()

async function join(name: string, room: string, viewport: { width: number; height: number } = VIEWPORTS.laptop) {
  const opened = await suite.open('/chat.html', viewport)
  await opened.page.fill('#name', name)
  await opened.page.fill('#room', room)
  await opened.page.click('#join-button')
  await opened.page.locator('#status[data-state="open"]').waitFor()
  return opened
}

const onlineList = (page: Page) => page.locator('#online li span').allInnerTexts()
const waitForOnline = (page: Page, count: number) => page.waitForFunction((n) => document.querySelectorAll('#online li').length === n, count, { timeout: 5000 })

test('presence, room messages, and a direct message that reaches its target only', async () => {
  const [ada, bob, cat, elsewhere] = await Promise.all([join('ada', 'lobby'), join('bob', 'lobby', VIEWPORTS.phone), join('cat', 'lobby'), join('dan', 'garden')])
  try {
    // Presence: everyone in the lobby sees the same three names; the garden is a separate room.
    for (const page of [ada.page, bob.page, cat.page]) await waitForOnline(page, 3)
    expect(await onlineList(ada.page)).toEqual(['ada (you)', 'bob', 'cat'])
    expect(await onlineList(bob.page)).toEqual(['ada', 'bob (you)', 'cat'])
    expect(await onlineList(elsewhere.page)).toEqual(['dan (you)'])

    // A direct message from ada to bob.
    await ada.page.selectOption('#to', 'bob')
    await ada.page.fill('#text', 'psst, only for bob')
    await ada.page.click('#send')
    await bob.page.locator('#messages .direct', { hasText: 'psst, only for bob' }).waitFor({ timeout: 5000 })
    expect(await bob.page.locator('#messages .direct').textContent()).toBe('directada: psst, only for bob')
    expect(await ada.page.locator('#messages .direct').textContent()).toBe('to bobada: psst, only for bob')

    // Then a room message from ada. Her messages are published in order on one socket, so once cat
    // has the room message, a wrongly delivered direct message would already be there too.
    await ada.page.selectOption('#to', '')
    await ada.page.fill('#text', 'hello, room')
    await ada.page.click('#send')
    for (const page of [ada.page, bob.page, cat.page]) await page.locator('#messages li', { hasText: 'ada: hello, room' }).waitFor({ timeout: 5000 })
    expect(await cat.page.locator('#messages .direct').count()).toBe(0)
    expect(await cat.page.locator('#messages').innerText()).not.toContain('psst')
    expect(await elsewhere.page.locator('#messages').innerText()).not.toContain('hello, room')

    // Presence again: cat closes the tab without saying goodbye; the others see cat leave.
    await cat.context.close()
    for (const page of [ada.page, bob.page]) await waitForOnline(page, 2)
    expect(await onlineList(ada.page)).toEqual(['ada (you)', 'bob'])
    await bob.page.locator('#messages .system', { hasText: 'cat left' }).waitFor()

    await screenshot(ada.page, 'chat-laptop')
    await screenshot(bob.page, 'chat-phone')
    for (const { errors } of [ada, bob, elsewhere]) expect(errors).toEqual([])
  } finally {
    for (const { context } of [ada, bob, cat, elsewhere]) await context.close()
  }
})

test('text is shown as text, not markup', async () => {
  const eve = await join('eve', 'xss')
  try {
    await eve.page.fill('#text', '<img src=x onerror="window.pwned = true">')
    await eve.page.click('#send')
    await eve.page.locator('#messages li', { hasText: '<img src=x' }).waitFor({ timeout: 5000 })
    expect(await eve.page.locator('#messages img').count()).toBe(0)
    expect(await eve.page.evaluate(() => (window as { pwned?: boolean }).pwned)).toBeUndefined()
  } finally {
    await eve.context.close()
  }
})

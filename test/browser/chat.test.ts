import { expect, test } from 'bun:test'
import type { BrowserContextOptions, Locator, Page, WebSocketRoute } from 'playwright-core'
import { chatPayload } from '../hostile/demo-payloads'
import { Rng, SEED } from '../hostile/prng'
import { browserSuite, screenshot, VIEWPORTS } from './browser'

const suite = browserSuite()

async function open(viewport: { width: number; height: number } = VIEWPORTS.laptop, options?: BrowserContextOptions) {
  return suite.open('/chat.html', viewport, options)
}

async function join(name: string, room: string, viewport: { width: number; height: number } = VIEWPORTS.laptop, options?: BrowserContextOptions) {
  const opened = await open(viewport, options)
  await opened.page.fill('#name', name)
  await opened.page.fill('#room', room)
  await opened.page.click('#join-button')
  await opened.page.locator('#status[data-state="open"]').waitFor()
  return opened
}

/**
 * Joins with the page's WebSockets passed through the test (Playwright's routeWebSocket), so the
 * test can cut them as a network would, or send the page frames no Herald would send.
 */
async function joinRouted(name: string, room: string, viewport: { width: number; height: number } = VIEWPORTS.laptop) {
  const opened = await open(viewport)
  const sockets: { page: WebSocketRoute; server: WebSocketRoute }[] = []
  await opened.page.routeWebSocket(/\/ws$/, (page) => {
    sockets.push({ page, server: page.connectToServer() })
  })
  await opened.page.fill('#name', name)
  await opened.page.fill('#room', room)
  await opened.page.click('#join-button')
  await opened.page.locator('#status[data-state="open"]').waitFor()
  return {
    ...opened,
    /** Drops every connection the page has open, on both sides. */
    cut: async () => {
      for (const { page, server } of sockets.splice(0)) {
        await server.close()
        await page.close({ code: 1011, reason: 'cut by the test' })
      }
    },
    /** Sends `text` to the page as if the server had (on its newest socket). */
    sendToPage: (text: string) => sockets.at(-1)?.page.send(text),
  }
}

/** A chat line's text without its time. */
const lineText = (line: Locator) => line.evaluate((element) => Array.from(element.querySelectorAll(':scope > span'), (span) => span.textContent).join(''))
const lineTexts = (page: Page) => page.locator('#messages li').evaluateAll((items) => items.map((item) => Array.from(item.querySelectorAll(':scope > span'), (span) => span.textContent).join('')))
const onlineList = (page: Page) => page.locator('#online li span').allInnerTexts()
const waitForOnline = (page: Page, count: number) => page.waitForFunction((n) => document.querySelectorAll('#online li').length === n, count, { timeout: 5000 })
/** The browser's report of a refused claim (409) is expected; everything else is a failure. */
const pageErrors = (errors: string[]) => errors.filter((error) => !error.includes('status of 409'))

async function say(page: Page, text: string, to = '') {
  await page.selectOption('#to', to)
  await page.fill('#text', text)
  await page.click('#send')
}

test('presence, room messages, and a direct message that reaches its target only', async () => {
  const [ada, bob, cat, elsewhere] = await Promise.all([join('ada', 'lobby'), join('bob', 'lobby', VIEWPORTS.phone), join('cat', 'lobby'), join('dan', 'garden')])
  try {
    // Presence: everyone in the lobby sees the same three names; the garden is a separate room.
    for (const page of [ada.page, bob.page, cat.page]) await waitForOnline(page, 3)
    expect(await onlineList(ada.page)).toEqual(['ada (you)', 'bob', 'cat'])
    expect(await onlineList(bob.page)).toEqual(['ada', 'bob (you)', 'cat'])
    expect(await onlineList(elsewhere.page)).toEqual(['dan (you)'])
    // The page talks to Herald through the client the server serves.
    expect(await ada.page.evaluate(() => performance.getEntriesByType('resource').some((entry) => new URL(entry.name).pathname === '/client/herald.js'))).toBe(true)

    // A direct message from ada to bob.
    await say(ada.page, 'psst, only for bob', 'bob')
    await bob.page.locator('#messages .direct', { hasText: 'psst, only for bob' }).waitFor({ timeout: 5000 })
    expect(await lineText(bob.page.locator('#messages .direct'))).toBe('directada: psst, only for bob')
    expect(await lineText(ada.page.locator('#messages .direct'))).toBe('to bobada: psst, only for bob')

    // Then a room message from ada. The page publishes her messages one after another, so once cat
    // has the room message, a wrongly delivered direct message would already be there too.
    await say(ada.page, 'hello, room')
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
    await say(eve.page, '<img src=x onerror="window.pwned = true">')
    await eve.page.locator('#messages li', { hasText: '<img src=x' }).waitFor({ timeout: 5000 })
    expect(await eve.page.locator('#messages img').count()).toBe(0)
    expect(await eve.page.evaluate(() => (window as { pwned?: boolean }).pwned)).toBeUndefined()
  } finally {
    await eve.context.close()
  }
})

test('a name that is online cannot be taken by a second person; the page says so, and it is free once its holder leaves', async () => {
  const holder = await join('gus', 'names-a')
  // Another tab, another person (its own context), in another room: names are unique across rooms.
  const second = await open(VIEWPORTS.phone)
  try {
    await second.page.fill('#name', 'gus')
    await second.page.fill('#room', 'names-b')
    await second.page.click('#join-button')
    const refusal = second.page.locator('#join-error')
    await refusal.waitFor({ timeout: 5000 })
    expect(await refusal.innerText()).toBe('“gus” is already in the chat. Pick another name.')
    expect(await second.page.locator('#chat').isHidden()).toBe(true)
    expect(await second.page.locator('#join-form').isVisible()).toBe(true)
    expect(await second.page.locator('#name').getAttribute('aria-invalid')).toBe('true')
    await screenshot(second.page, 'chat-phone-name-taken')
    // Nobody saw a second gus arrive.
    expect(await onlineList(holder.page)).toEqual(['gus (you)'])

    // Another name works at once.
    await second.page.fill('#name', 'gus2')
    await second.page.click('#join-button')
    await second.page.locator('#status[data-state="open"]').waitFor()
    expect(await second.page.locator('#join-error').isHidden()).toBe(true)

    // The holder's reload is the same tab: it keeps its name.
    await holder.page.reload()
    await holder.page.fill('#name', 'gus')
    await holder.page.fill('#room', 'names-a')
    await holder.page.click('#join-button')
    await holder.page.locator('#status[data-state="open"]').waitFor()
    await waitForOnline(holder.page, 1)

    // Once the holder's tab is gone, the name is free for someone else.
    await holder.context.close()
    await second.page.click('#leave-button')
    await second.page.fill('#name', 'gus')
    await second.page.click('#join-button')
    await second.page.locator('#status[data-state="open"]').waitFor({ timeout: 5000 })
    expect(await second.page.locator('#room-title').textContent()).toBe('#names-b · you are gus')
    expect(pageErrors(second.errors)).toEqual([])
    expect(holder.errors).toEqual([])
  } finally {
    await holder.context.close()
    await second.context.close()
  }
})

test('a late joiner sees recent room messages with their times in its own time zone, and no direct messages', async () => {
  const room = 'history'
  const published: { id: string; text: string }[] = []
  for (const text of ['first, before anyone', 'second, before anyone']) {
    const [event] = await suite.hub.publish([{ topic: `chat/room/${room}`, data: { from: 'hal', text } }])
    published.push({ id: event?.id as string, text })
  }
  // A direct message to "ivy" before ivy is here: whoever joins as ivy later must not see it.
  await suite.hub.publish([{ topic: 'chat/users/ivy/inbox', event: 'direct', data: { from: 'hal', to: 'ivy', text: 'meant for an earlier ivy' }, private: true }])
  const ivy = await join('ivy', room, VIEWPORTS.laptop, { timezoneId: 'Asia/Kolkata', locale: 'en-GB' })
  try {
    await ivy.page.waitForFunction(() => document.querySelectorAll('#messages li').length >= 2, undefined, { timeout: 5000 })
    expect(await lineTexts(ivy.page)).toEqual(['hal: first, before anyone', 'hal: second, before anyone'])
    // Each line carries its time: the event's moment, shown in the viewer's zone (UTC+05:30 here).
    const times = await ivy.page.locator('#messages li time').evaluateAll((items) => items.map((item) => ({ datetime: item.getAttribute('datetime'), text: item.textContent })))
    const expected = published.map(({ id }) => {
      const at = new Date(Number(id.split('-')[0]))
      return { datetime: at.toISOString(), text: at.toLocaleTimeString('en-GB', { timeZone: 'Asia/Kolkata', hour: '2-digit', minute: '2-digit' }) }
    })
    expect(times).toEqual(expected)

    // A message sent now lands after the history, once, with a time.
    await say(ivy.page, 'third, live')
    await ivy.page.locator('#messages li', { hasText: 'third, live' }).waitFor()
    expect(await lineTexts(ivy.page)).toEqual(['hal: first, before anyone', 'hal: second, before anyone', 'ivy: third, live'])
    expect(await ivy.page.locator('#messages li').last().locator('time').count()).toBe(1)
    expect(await ivy.page.locator('#messages').innerText()).not.toContain('earlier ivy')
    expect(ivy.errors).toEqual([])
  } finally {
    await ivy.context.close()
  }
})

test('after a dropped connection the page resumes: messages sent meanwhile appear once each', async () => {
  const jon = await joinRouted('jon', 'resume')
  try {
    await say(jon.page, 'before the drop')
    await jon.page.locator('#messages li', { hasText: 'before the drop' }).waitFor()
    // Cut the connection; the page reconnects after its back-off and resumes from the last id it saw.
    await jon.cut()
    await jon.page.locator('#status[data-state="connecting"]').waitFor()
    for (const text of ['while away 1', 'while away 2']) await suite.hub.publish([{ topic: 'chat/room/resume', data: { from: 'kim', text } }])
    await suite.hub.publish([{ topic: 'chat/users/jon/inbox', event: 'direct', data: { from: 'kim', to: 'jon', text: 'direct while away' }, private: true }])
    await jon.page.locator('#status[data-state="open"]').waitFor({ timeout: 5000 })
    await jon.page.locator('#messages li', { hasText: 'direct while away' }).waitFor({ timeout: 5000 })
    await jon.page.locator('#messages li', { hasText: 'while away 2' }).waitFor({ timeout: 5000 })
    const texts = (await lineTexts(jon.page)).filter((text) => !text.includes('joined') && !text.includes('left'))
    expect(texts).toEqual(['jon: before the drop', 'kim: while away 1', 'kim: while away 2', 'directkim: direct while away'])
    expect(jon.errors).toEqual([])
  } finally {
    await jon.context.close()
  }
})

test('malformed events on the chat topics throw nothing, show nothing, and the page keeps working', async () => {
  const room = 'junk'
  const [kay, lee] = await Promise.all([joinRouted('kay', room), join('lee', room, VIEWPORTS.phone)])
  try {
    for (const page of [kay.page, lee.page]) await waitForOnline(page, 2)
    const linesBefore = await lineTexts(kay.page)
    // The exact payload of the bug report, then a generated family (seeded: HOSTILE_SEED replays another).
    const rng = new Rng(SEED)
    const payloads = [{ topic: `chat/room/${room}`, event: 'presence', data: { users: null }, why: 'the reported crash' }, ...Array.from({ length: 200 }, () => chatPayload(rng, room, 'kay'))]
    for (const { topic, event, data } of payloads) await suite.hub.publish([{ topic, event, data }])
    // Frames no Herald sends (not JSON, not objects, forged events) must not make the page throw either.
    for (const frame of ['not json {', 'null', '[1,2]', '{"type":"event","topic":"chat/room/junk","id":"bogus","data":{"from":"x","text":"bogus"}}', '{"type":"event"}']) kay.sendToPage(frame)

    // A marker published after the junk: once it shows, every junk event has been handled.
    await suite.hub.publish([{ topic: `chat/room/${room}`, data: { from: 'lee', text: 'marker after the junk' } }])
    for (const page of [kay.page, lee.page]) await page.locator('#messages li', { hasText: 'marker after the junk' }).waitFor({ timeout: 5000 })
    expect(kay.errors).toEqual([])
    expect(lee.errors).toEqual([])
    // Nothing bogus: no new line but the marker, no forged name in the roster.
    expect(await lineTexts(kay.page)).toEqual([...linesBefore, 'lee: marker after the junk'])
    expect(await onlineList(kay.page)).toEqual(['kay (you)', 'lee'])
    expect(await kay.page.locator('#messages').innerText()).not.toContain('bogus')
    expect(await kay.page.evaluate(() => (window as { pwned?: boolean }).pwned)).toBeUndefined()

    // And it still works: a real message both ways, a newcomer in the roster.
    await say(kay.page, 'still working')
    await lee.page.locator('#messages li', { hasText: 'kay: still working' }).waitFor()
    const mia = await join('mia', room)
    for (const page of [kay.page, lee.page, mia.page]) await waitForOnline(page, 3)
    await mia.context.close()
    expect(kay.errors).toEqual([])
    expect(lee.errors).toEqual([])
  } finally {
    await kay.context.close()
    await lee.context.close()
  }
})

test('on a 390×844 phone the composer stays on screen after joining, with a long history, and nothing else scrolls', async () => {
  const room = 'phone'
  for (let n = 1; n <= 40; n++) await suite.hub.publish([{ topic: `chat/room/${room}`, data: { from: 'ned', text: `line ${n} ${'of history '.repeat(n % 5)}` } }])
  const ned = await join('ned', room, VIEWPORTS.phone)
  try {
    await ned.page.locator('#messages li', { hasText: 'line 40' }).waitFor()
    const viewport = VIEWPORTS.phone
    for (const selector of ['#text', '#send', '#to', '#leave-button', '#messages']) {
      const box = await ned.page.locator(selector).boundingBox()
      expect({ selector, inside: box !== null && box.y >= 0 && box.x >= 0 && box.y + box.height <= viewport.height && box.x + box.width <= viewport.width }).toEqual({ selector, inside: true })
    }
    // The page itself does not scroll (the message list does), so the composer cannot be pushed off.
    expect(await ned.page.evaluate(() => document.scrollingElement?.scrollHeight)).toBeLessThanOrEqual(viewport.height)
    // The newest message is in view.
    const last = await ned.page.locator('#messages li').last().boundingBox()
    const list = await ned.page.locator('#messages').boundingBox()
    expect(last && list && last.y + last.height <= list.y + list.height + 1).toBe(true)
    await ned.page.screenshot({ path: 'test-artifacts/chat-phone-joined.png' })
    expect(ned.errors).toEqual([])
  } finally {
    await ned.context.close()
  }
})

/** A server with a key and no --demo-tokens: the chat hands out no tokens. */
const keyed = browserSuite({ jwtSecret: 'chat-browser-test-secret-0123456789abcdef' })

test('with a key and no --demo-tokens, the page says the chat needs --demo-tokens instead of failing silently', async () => {
  const { context, page, errors } = await keyed.open('/chat.html', VIEWPORTS.phone)
  try {
    await page.fill('#name', 'ada')
    await page.click('#join-button')
    const refusal = page.locator('#join-error')
    await refusal.waitFor({ timeout: 5000 })
    expect(await refusal.innerText()).toContain('Start it with --demo-tokens')
    expect(await page.locator('#chat').isHidden()).toBe(true)
    // Not the name's fault.
    expect(await page.locator('#name').getAttribute('aria-invalid')).toBeNull()
    await screenshot(page, 'chat-phone-no-demo-tokens')
    // The browser reports the 404 itself; nothing else went wrong.
    expect(errors.filter((error) => !error.includes('status of 404'))).toEqual([])
  } finally {
    await context.close()
  }
})

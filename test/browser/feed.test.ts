import { expect, test } from 'bun:test'
import { feedPayload } from '../hostile/demo-payloads'
import { Rng, SEED } from '../hostile/prng'
import { browserSuite, screenshot, VIEWPORTS } from './browser'

const suite = browserSuite()
/** A second server whose feed nobody posts to. */
const empty = browserSuite()

/** The post texts in a piece of the list's HTML. */
async function postTextsIn(html: string): Promise<string[]> {
  return [...html.matchAll(/<p class="post-text">([^<]*)<\/p>/g)].map((match) => (match[1] as string).replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&'))
}

/** Script errors on the page; the 4xx a refused post answers shows up as a console line and is expected. */
const scriptErrors = (errors: string[]) => errors.filter((error) => !error.includes('status of 400'))

test('a post in one window appears in another without reload, and the other keeps its half-typed text', async () => {
  const [writer, reader] = await Promise.all([suite.open('/feed'), suite.open('/feed')])
  try {
    // The reader's page must be subscribed before the post, or it would have nothing to show live.
    await reader.page.locator('#feed-status[data-state="open"]').waitFor()
    await reader.page.fill('#message', 'half-typed, not sent')
    await reader.page.locator('#message').focus()

    const xss = '<img src=x onerror="window.pwned = true"> <b>bold?</b>'
    await writer.page.fill('#message', `Hello from the writer ${xss}`)
    await writer.page.click('#post-form button[type=submit]')

    const post = reader.page.locator('#posts li').first()
    await post.waitFor({ timeout: 5000 })
    expect(await post.locator('.post-text').innerText()).toBe(`Hello from the writer ${xss}`)
    // Shown as text: no element was made from it, no script ran.
    expect(await reader.page.locator('#posts img, #posts b').count()).toBe(0)
    expect(await reader.page.evaluate(() => (window as { pwned?: boolean }).pwned)).toBeUndefined()
    // The reader never reloaded, and its textarea still holds what was typed, with the focus.
    expect(await reader.page.inputValue('#message')).toBe('half-typed, not sent')
    expect(await reader.page.evaluate(() => document.activeElement?.id)).toBe('message')
    // The writer's form was reset for the next post, and its own list updated too.
    expect(await writer.page.inputValue('#message')).toBe('')
    await writer.page.locator('#posts li').first().waitFor()

    // The next update morphs the list: the existing item is the same DOM node, not a rebuilt one.
    await reader.page.evaluate(() => {
      ;(document.querySelector('#posts li') as HTMLElement & { marked?: boolean }).marked = true
    })
    await writer.page.fill('#message', 'second post')
    await writer.page.click('#post-form button[type=submit]')
    await reader.page.waitForFunction(() => document.querySelectorAll('#posts li').length === 2)
    expect(await reader.page.evaluate(() => Array.from(document.querySelectorAll('#posts li')).map((li) => (li as HTMLElement & { marked?: boolean }).marked === true))).toEqual([false, true])
    expect(await reader.page.locator('#posts li .post-text').allInnerTexts()).toEqual(['second post', `Hello from the writer ${xss}`])
    expect(await reader.page.inputValue('#message')).toBe('half-typed, not sent')

    await screenshot(reader.page, 'feed-laptop')
    expect(scriptErrors(writer.errors)).toEqual([])
    expect(scriptErrors(reader.errors)).toEqual([])
  } finally {
    await writer.context.close()
    await reader.context.close()
  }
})

test('an empty or oversized message gets a clear error in the form, and the text is kept', async () => {
  const { context, page, errors } = await suite.open('/feed', VIEWPORTS.phone)
  try {
    // Spaces pass the browser's `required` check; the server refuses them.
    await page.fill('#message', '   ')
    const [empty] = await Promise.all([page.waitForResponse((response) => response.url().endsWith('/feed/posts')), page.click('#post-form button[type=submit]')])
    expect(empty.status()).toBe(400)
    await page.locator('#message-error').waitFor()
    expect(await page.locator('#message-error').innerText()).toBe('Write something first: the message is empty.')

    const long = 'x'.repeat(501)
    await page.fill('#message', long)
    const [oversized] = await Promise.all([page.waitForResponse((response) => response.url().endsWith('/feed/posts')), page.click('#post-form button[type=submit]')])
    expect(oversized.status()).toBe(413)
    await page.waitForFunction(() => document.querySelector('#message-error')?.textContent?.includes('501 characters'))
    expect(await page.locator('#message-error').innerText()).toBe('That message is 501 characters; the limit is 500. Shorten it and post again.')
    expect(await page.inputValue('#message')).toBe(long)
    expect(await page.locator('#message').getAttribute('aria-invalid')).toBe('true')
    await screenshot(page, 'feed-phone-error')
    expect(scriptErrors(errors).filter((error) => !error.includes('status of 413'))).toEqual([])
  } finally {
    await context.close()
  }
})

test('an empty feed says so, and the message goes once the first post arrives', async () => {
  // A server of its own, so no other test's posts are in it.
  const { context, page, errors } = await empty.open('/feed', VIEWPORTS.phone)
  try {
    const note = page.locator('.feed .empty')
    expect(await note.isVisible()).toBe(true)
    expect(await note.innerText()).toBe('No posts yet. Write the first one above: it appears here, and in every other open window, at once.')
    await page.locator('#feed-status[data-state="open"]').waitFor()
    await screenshot(page, 'feed-phone-empty')
    await page.setViewportSize(VIEWPORTS.laptop)
    await screenshot(page, 'feed-laptop-empty')
    await page.fill('#message', 'the first post')
    await page.click('#post-form button[type=submit]')
    await page.locator('#posts li').first().waitFor({ timeout: 5000 })
    expect(await note.isVisible()).toBe(false)
    expect(errors).toEqual([])
  } finally {
    await context.close()
  }
})

test("post times are shown in the viewer's time zone, on load and after every live update", async () => {
  const zone = 'America/Los_Angeles'
  const local = (iso: string) => new Date(iso).toLocaleTimeString('en-US', { timeZone: zone, hour: '2-digit', minute: '2-digit' })
  const writer = await suite.open('/feed')
  const reader = await suite.open('/feed', VIEWPORTS.phone, { timezoneId: zone, locale: 'en-US' })
  try {
    await reader.page.locator('#feed-status[data-state="open"]').waitFor()
    await writer.page.fill('#message', 'what time is it?')
    await writer.page.click('#post-form button[type=submit]')
    const time = reader.page.locator('#posts li', { hasText: 'what time is it?' }).locator('time')
    await time.waitFor({ timeout: 5000 })
    // After the live swap: local time, not the UTC text the server wrote.
    const at = (await time.getAttribute('datetime')) as string
    await reader.page.waitForFunction((expected) => document.querySelector('#posts li time')?.textContent === expected, local(at), { timeout: 5000 })
    expect(await reader.page.locator('#posts time').evaluateAll((items) => items.filter((item) => item.textContent?.includes('UTC')).length)).toBe(0)
    // And on a fresh load.
    await reader.page.reload()
    expect(await reader.page.locator('#posts li time').first().innerText()).toBe(local(at))
    expect(await reader.page.locator('#posts li time').first().getAttribute('title')).toMatch(/P[SD]T$/)
    expect(reader.errors).toEqual([])
  } finally {
    await writer.context.close()
    await reader.context.close()
  }
})

test('updates someone else publishes to the feed topic are refused: nothing changes, no script runs, nothing throws', async () => {
  // Herald lets anyone publish to any topic, so the page must not trust what arrives on "feed".
  const [reader, writer] = await Promise.all([suite.open('/feed'), suite.open('/feed')])
  try {
    await reader.page.locator('#feed-status[data-state="open"]').waitFor()
    await writer.page.fill('#message', 'a real post before the junk')
    await writer.page.click('#post-form button[type=submit]')
    await reader.page.locator('#posts li', { hasText: 'a real post before the junk' }).waitFor({ timeout: 5000 })
    const before = await reader.page.locator('#posts').innerHTML()

    const forged = '<li id="forged"><img src="/nope.png" onerror="window.pwned = true"><script>window.pwned = true</script><span hx-on:click="window.pwned = true">forged</span></li>'
    const rng = new Rng(SEED)
    const payloads = [{ topic: 'feed', event: 'posts', data: forged }, ...Array.from({ length: 150 }, () => feedPayload(rng))]
    for (const { topic, event, data } of payloads) await suite.hub.publish([{ topic, event, data }])
    // A real post after the junk: once it shows, every junk update has been handled.
    await writer.page.fill('#message', 'a real post after the junk')
    await writer.page.click('#post-form button[type=submit]')
    await reader.page.locator('#posts li', { hasText: 'a real post after the junk' }).waitFor({ timeout: 5000 })

    expect(await reader.page.locator('#forged').count()).toBe(0)
    expect(await reader.page.locator('#posts').innerText()).not.toContain('bogus')
    expect(await reader.page.locator('#posts img, #posts script, #posts b, #posts [hx-get], #posts [hx-on\\:click]').count()).toBe(0)
    expect(await reader.page.locator('#posts li .post-text').allInnerTexts()).toEqual(['a real post after the junk', 'a real post before the junk', ...(await postTextsIn(before)).slice(1)])
    expect(await reader.page.evaluate(() => (window as { pwned?: boolean }).pwned)).toBeUndefined()
    expect(scriptErrors(reader.errors)).toEqual([])
  } finally {
    await reader.context.close()
    await writer.context.close()
  }
})

test('even markup that got into the page could not run script: the CSP blocks it', async () => {
  // Defence in depth behind the check above: inline handlers and scripts are refused by the policy.
  const { context, page, errors } = await suite.open('/feed')
  try {
    await page.evaluate(() => {
      document.getElementById('posts')?.insertAdjacentHTML('afterbegin', '<li id="slipped"><img src="/nope.png" onerror="window.pwned = true"></li>')
    })
    // Wait until the browser has given up on the image, so its onerror would have fired by now.
    await page.waitForFunction(() => (document.querySelector('#slipped img') as HTMLImageElement | null)?.complete === true)
    expect(await page.evaluate(() => (window as { pwned?: boolean }).pwned)).toBeUndefined()
    expect(errors.some((error) => error.includes('Content Security Policy'))).toBe(true)
  } finally {
    await context.close()
  }
})

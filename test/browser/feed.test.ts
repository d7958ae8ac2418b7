import { expect, test } from 'bun:test'
import { publish } from '../helpers'
import { browserSuite, screenshot, VIEWPORTS } from './browser'

const suite = browserSuite()

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

test('markup that someone else publishes to the feed topic cannot run script on the page', async () => {
  // Herald lets anyone publish to any topic, so the page must not trust what arrives on "feed".
  const { context, page, errors } = await suite.open('/feed')
  try {
    await page.locator('#feed-status[data-state="open"]').waitFor()
    const forged = '<li id="forged"><img src="/nope.png" onerror="window.pwned = true"><script>window.pwned = true</script><span hx-on:click="window.pwned = true">forged</span></li>'
    await publish(suite.base, 'feed', forged, { event: 'posts' })
    await page.locator('#forged').waitFor()
    // Wait until the browser has given up on the image, so its onerror would have fired by now.
    await page.waitForFunction(() => (document.querySelector('#forged img') as HTMLImageElement | null)?.complete === true)
    await page.click('#forged span')
    expect(await page.evaluate(() => (window as { pwned?: boolean }).pwned)).toBeUndefined()
    expect(errors.some((error) => error.includes('Content Security Policy'))).toBe(true)
  } finally {
    await context.close()
  }
})

/**
 * Swagger UI with tokens, in Chromium, under the pages' Content-Security-Policy: on a Herald with a
 * key, "Try it out" on a publish without a token shows the 401; after Authorize with a token minted
 * by `signToken`, the same publish answers 200 and a subscriber with its own token gets the event.
 */
import { expect, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { signToken } from '../../src/auth/sign'
import { SseClient } from '../helpers'
import { ARTIFACTS, browserSuite } from './browser'

const SECRET = 'swagger-browser-secret-0123456789-abcdef'
const suite = browserSuite({ jwtSecret: SECRET })

/** Saves `test-artifacts/<name>.png`: the element alone (the whole Swagger page is 5,000 px tall). */
async function shot(element: ReturnType<Page['locator']>, name: string): Promise<void> {
  await element.screenshot({ path: `${ARTIFACTS}/${name}.png` })
}

/** The operation block of `method path` (a full match on the path). */
function operation(page: Page, method: string, path: string) {
  return page.locator(`.opblock-${method}`, { has: page.locator('.opblock-summary-path', { hasText: new RegExp(`^${path.replace(/[{}/]/g, '\\$&')}$`) }) })
}

/** Opens `POST {path}` in Swagger UI and presses "Try it out". */
async function tryOut(page: Page, path: string) {
  const block = operation(page, 'post', path)
  await block.locator('.opblock-summary').click()
  await block.locator('button.try-out__btn').click()
  return block
}

/** The status Swagger UI shows for the last execution of `block`. */
async function shownStatus(block: ReturnType<Page['locator']>): Promise<string> {
  const status = block.locator('.live-responses-table tr.response .response-col_status').first()
  await status.waitFor({ timeout: 5000 })
  return (await status.innerText()).trim()
}

test('Authorize, then "Try it out" on POST /topics/{topic}: 401 without the token, 200 with it, and the subscriber gets the event', async () => {
  const reader = signToken({ secret: SECRET, sub: 'reader', subscribe: ['swagger/**'], ttlMs: 3_600_000 })
  const writer = signToken({ secret: SECRET, sub: 'writer', publish: ['swagger/**'], ttlMs: 3_600_000 })
  const subscriber = await SseClient.open(`${suite.base}/events?topic=swagger/demo`, { authorization: `Bearer ${reader}` })
  expect(subscriber.status).toBe(200)
  const { context, page, errors } = await suite.open('/swagger')
  try {
    // The Authorize button is there, and the publish operations show the lock.
    const authorize = page.locator('.auth-wrapper button.authorize')
    await authorize.waitFor({ timeout: 10_000 })
    // The lock is on the operations that read a token, not on the others.
    for (const [method, path] of [['post', '/topics/{topic}'], ['post', '/publish'], ['get', '/events'], ['get', '/ws']]) {
      expect(await operation(page, method as string, path as string).locator('.authorization__btn').count()).toBe(1)
    }
    expect(await operation(page, 'get', '/healthz').locator('.authorization__btn').count()).toBe(0)
    const block = await tryOut(page, '/topics/{topic}')
    await block.locator('input[placeholder="topic"]').fill('swagger/demo')
    await block.locator('textarea.body-param__text').fill(JSON.stringify({ data: 'from Swagger UI', event: 'swagger' }))

    // Without a token: the 401 and its code are shown, nothing is published.
    await block.locator('button.execute').click()
    expect(await shownStatus(block)).toBe('401')
    expect(await block.locator('.live-responses-table tr.response .response-col_description').first().innerText()).toContain('missing_token')
    await shot(block, 'swagger-auth-401')

    // Authorize with the token, as a user pastes it.
    await authorize.click()
    const modal = page.locator('.modal-ux')
    await modal.locator('input[type="text"], input[type="password"]').first().fill(writer)
    await modal.locator('button.modal-btn.auth.authorize').click()
    await modal.locator('button.modal-btn.auth', { hasText: 'Logout' }).waitFor({ timeout: 5000 })
    await shot(modal, 'swagger-auth-authorized')
    await modal.locator('button.btn-done').click()

    await block.locator('button.execute').click()
    await block.locator('.live-responses-table tr.response .response-col_status', { hasText: '200' }).first().waitFor({ timeout: 5000 })
    const body = JSON.parse(await block.locator('.live-responses-table tr.response .response-col_description pre').first().innerText()) as { id: string; topic: string }
    expect(body.topic).toBe('swagger/demo')
    // The curl command Swagger UI shows carries the bearer header.
    expect(await block.locator('.curl-command').innerText()).toContain(`Authorization: Bearer ${writer}`)
    expect((await subscriber.waitForMessages(1))[0]).toEqual({ id: body.id, event: 'swagger', data: 'from Swagger UI' })
    await shot(block, 'swagger-auth-200')

    // The batch endpoint takes the same token; a topic it does not cover is the 403.
    const batch = await tryOut(page, '/publish')
    await batch.locator('textarea.body-param__text').fill(JSON.stringify({ topic: 'elsewhere', data: 'no' }))
    await batch.locator('button.execute').click()
    expect(await shownStatus(batch)).toBe('403')
    expect(errors.filter((error) => !/status of 40[13]/.test(error))).toEqual([])
    expect(subscriber.messages).toHaveLength(1)
  } finally {
    subscriber.close()
    await context.close()
  }
})

/**
 * The attacks of the issue "Who may publish and who may listen", tried as an outside user would,
 * against the feed and the chat open in Chromium, in both ways the server runs: with no key (the
 * default: demo tokens signed with a secret generated at start) and with a key and --demo-tokens.
 * Each shows the attack failing where a user would notice it: the victims' pages.
 */
import { describe, expect, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { signToken } from '../../src/auth/sign'
import type { HeraldOptions } from '../../src/config'
import { chatPost, chatToken, requestToken } from '../demos/chat-client'
import { SseClient, waitFor, WsClient } from '../helpers'
import { browserSuite, screenshot, VIEWPORTS } from './browser'

const SECRET = 'attacks-test-secret-0123456789-abcdefghij'

const MODES: [string, Partial<HeraldOptions>][] = [
  ['no key (demo tokens from a secret generated at start)', {}],
  ['a key and --demo-tokens', { jwtSecret: SECRET, demoTokens: true }],
]

const lineTexts = (page: Page) => page.locator('#messages li').evaluateAll((items) => items.map((item) => Array.from(item.querySelectorAll(':scope > span'), (span) => span.textContent).join('')))
const onlineList = (page: Page) => page.locator('#online li span').allInnerTexts()
const codeOf = async (response: Response) => ((await response.json()) as { error?: { code?: string } }).error?.code

/** POST /topics/<topic> as a publisher would, with an optional token. */
function forge(base: string, topic: string, body: Record<string, unknown>, token?: string): Promise<Response> {
  return fetch(`${base}/topics/${topic}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) }, body: JSON.stringify(body) })
}

describe.each(MODES)('with %s', (mode, options) => {
  const suite = browserSuite(options)
  const keyed = options.jwtSecret !== undefined
  /** With a key: a token the operator could have minted that may publish anywhere (server-owned topics stay closed to it). */
  const everything = () => (keyed ? signToken({ secret: SECRET, sub: 'operator', publish: ['**'], subscribe: ['**'], ttlMs: 60_000 }) : undefined)
  const slug = keyed ? 'key' : 'nokey'

  async function join(name: string, room: string, viewport: { width: number; height: number } = VIEWPORTS.laptop) {
    const opened = await suite.open('/chat.html', viewport)
    await opened.page.fill('#name', name)
    await opened.page.fill('#room', room)
    await opened.page.click('#join-button')
    await opened.page.locator('#status[data-state="open"]').waitFor()
    return opened
  }

  async function say(page: Page, text: string, to = '') {
    await page.selectOption('#to', to)
    await page.fill('#text', text)
    await page.click('#send')
  }

  test('a forged posts event on the feed: the publisher gets 401/403, and the page changes nothing', async () => {
    const reader = await suite.open('/feed', VIEWPORTS.phone)
    try {
      await reader.page.locator('#feed-status[data-state="open"]').waitFor()
      const requests: string[] = []
      reader.page.on('request', (request) => requests.push(new URL(request.url()).pathname))
      const forged = { event: 'posts', data: '<li class="post" hx-get="/pwned" hx-trigger="load">forged</li><li hx-post="/feed/posts" hx-vals=\'{"message":"I was phished"}\' hx-trigger="load">x</li>' }
      const anonymous = await forge(suite.base, 'feed', forged)
      expect([anonymous.status, await codeOf(anonymous)]).toEqual(keyed ? [401, 'missing_token'] : [403, 'forbidden_topic'])
      if (keyed) {
        const withToken = await forge(suite.base, 'feed', forged, everything())
        expect([withToken.status, await codeOf(withToken)]).toEqual([403, 'forbidden_topic'])
      }
      // A real post after the attempts: once it shows, anything forged would have shown too.
      const marker = `a real post (${slug})`
      expect((await fetch(`${suite.base}/feed/posts`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `message=${encodeURIComponent(marker)}`, redirect: 'manual' })).status).toBe(303)
      await reader.page.locator('#posts li', { hasText: marker }).waitFor({ timeout: 5000 })
      expect(await reader.page.locator('#posts').innerText()).not.toContain('forged')
      expect(requests.filter((path) => path === '/pwned' || path === '/feed/posts')).toEqual([])
      await screenshot(reader.page, `attacks-feed-phone-${slug}`)
      await reader.page.setViewportSize(VIEWPORTS.laptop)
      await screenshot(reader.page, `attacks-feed-laptop-${slug}`)
      expect(reader.errors).toEqual([])
    } finally {
      await reader.context.close()
    }
  })

  test('even a posts update with hx-* that got past every check makes the browser send no request (hx-disable)', async () => {
    const { context, page, errors } = await suite.open('/feed')
    try {
      // Take away the page's own check (public/feed.js refuses anything but the server's markup),
      // and publish as the server itself, which nothing refuses: only hx-disable is left.
      await page.route('**/assets/feed.js', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: 'document.body.addEventListener("htmx:sseOpen", () => { document.getElementById("feed-status").dataset.state = "open" })' }))
      await page.reload()
      await page.locator('#feed-status[data-state="open"]').waitFor()
      const requests: string[] = []
      page.on('request', (request) => requests.push(new URL(request.url()).pathname))
      const markup = `<li id="slipped" hx-get="/pwned" hx-trigger="load">got through</li><li><button id="trap" hx-post="/feed/posts" hx-vals='{"message":"posted as the viewer"}'>click me</button></li><li hx-get="/pwned-later" hx-trigger="every 100ms">poll</li>`
      await suite.hub.publish([{ topic: 'feed', event: 'posts', data: markup }])
      // It got into the page: this is the case where nothing else stopped it.
      await page.locator('#slipped').waitFor({ timeout: 5000 })
      await page.click('#trap')
      // A same-origin request the page makes after the clicks: any request the markup caused would be before it.
      await page.evaluate(() => fetch('/healthz'))
      await waitFor(() => requests.includes('/healthz'), 'the marker request')
      expect(requests.filter((path) => path !== '/healthz')).toEqual([])
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('DM snooping: wildcard readers of chat/users/* and chat/user/* get nothing private, over SSE and WebSocket', async () => {
    const room = `snoop-${slug}`
    const [ada, bob] = await Promise.all([join('ada', room), join('bob', room, VIEWPORTS.phone)])
    const snoopers: { selector: string; client: SseClient }[] = []
    const sockets: WsClient[] = []
    try {
      await bob.page.waitForFunction(() => document.querySelectorAll('#online li').length === 2)
      // Anonymous SSE readers of every inbox, as in the issue.
      for (const selector of ['chat/users/*/inbox', 'chat/users/**', 'chat/user/*', 'chat/**']) {
        const client = await SseClient.open(`${suite.base}/events?topic=${encodeURIComponent(selector)}`)
        snoopers.push({ selector, client })
        expect({ selector, status: client.status }).toEqual({ selector, status: keyed ? 401 : 200 })
      }
      // A browser page of the attacker, EventSource on every inbox (the attack as written in the issue).
      const attacker = await suite.open('/chat.html')
      await attacker.page.evaluate(() => {
        const spy = { seen: [] as string[], sources: [] as EventSource[] }
        ;(window as unknown as { spy: typeof spy }).spy = spy
        for (const topic of ['chat/users/*/inbox', 'chat/user/*']) {
          const source = new EventSource(`/events?topic=${topic}`)
          source.addEventListener('direct', (event) => spy.seen.push((event as MessageEvent).data))
          spy.sources.push(source)
        }
      })
      // Mallory, with a token of her own: an anonymous socket (no key) and one with her token.
      const { token: mallory } = await chatToken(suite.base, 'mallory', 'mallory-key-0123456789')
      const anonymousSocket = await WsClient.open(`${suite.wsBase}/ws`)
      const malloryReply = await (async () => {
        const socket = await WsClient.open(`${suite.wsBase}/ws`)
        sockets.push(socket)
        await socket.request({ type: 'auth', token: mallory })
        return [await socket.request({ type: 'subscribe', topics: ['chat/users/**'] }), await socket.request({ type: 'subscribe', topics: ['chat/users/bob/inbox'] }), await socket.request({ type: 'subscribe', topics: ['chat/users/*/inbox'] })]
      })()
      sockets.push(anonymousSocket)
      expect(malloryReply.map((reply) => reply.code)).toEqual(['forbidden_topic', 'forbidden_topic', 'forbidden_topic'])
      const anonymousReply = await anonymousSocket.request({ type: 'subscribe', topics: ['chat/users/**'] })
      expect(anonymousReply.type === 'subscribed' ? 'subscribed' : anonymousReply.code).toBe(keyed ? 'missing_token' : 'subscribed')
      // Mallory's token over SSE, on bob's inbox.
      const withToken = await fetch(`${suite.base}/events?topic=chat/users/bob/inbox`, { headers: { authorization: `Bearer ${mallory}` } })
      expect([withToken.status, await codeOf(withToken)]).toEqual([403, 'forbidden_topic'])

      await say(ada.page, `psst, only for bob (${slug})`, 'bob')
      await bob.page.locator('#messages .direct', { hasText: 'psst, only for bob' }).waitFor({ timeout: 5000 })
      // An ordinary event on the inboxes' topic space after the DM: every snooper that is still
      // subscribed gets it, so by then it would have had the DM too.
      await suite.hub.publish([{ topic: 'chat/users/marker/inbox', event: 'direct', data: 'marker' }])
      if (keyed) {
        // Refused outright: the browser's EventSource gives up on a 401.
        await attacker.page.waitForFunction(() => (window as unknown as { spy: { sources: EventSource[] } }).spy.sources.every((source) => source.readyState === EventSource.CLOSED))
      } else {
        for (const { selector, client } of snoopers) if (selector !== 'chat/user/*') await waitFor(() => client.raw.includes('marker'), `the marker on ${selector}`)
        await anonymousSocket.waitFor((message) => message.data === 'marker', 'the marker on the anonymous socket')
        await attacker.page.waitForFunction(() => (window as unknown as { spy: { seen: string[] } }).spy.seen.includes('marker'))
      }
      for (const { client } of snoopers) expect(client.raw).not.toContain('psst')
      for (const socket of sockets) expect(JSON.stringify(socket.messages)).not.toContain('psst')
      expect(await attacker.page.evaluate(() => (window as unknown as { spy: { seen: string[] } }).spy.seen)).toEqual(keyed ? [] : ['marker'])
      // And ada, the sender, cannot read bob's inbox either: only her own copy is on her page.
      expect(await ada.page.locator('#messages .direct').count()).toBe(1)
      await attacker.context.close()
      expect(ada.errors).toEqual([])
      expect(bob.errors).toEqual([])
    } finally {
      for (const { client } of snoopers) client.close()
      for (const socket of sockets) socket.close()
      await ada.context.close()
      await bob.context.close()
    }
  })

  test('impersonation: a publish to a room is refused, and a message sent with a forged "from" shows its real sender', async () => {
    const room = `names-${slug}`
    const ada = await join('ada2', room)
    try {
      const { token: mallory } = await chatToken(suite.base, 'mallory2', 'mallory2-key-0123456789')
      const lie = { data: { from: 'ada2', text: 'ada2 says: click this link' } }
      // Straight to the room's topic: the server's own.
      const anonymous = await forge(suite.base, `chat/room/${room}`, lie)
      expect([anonymous.status, await codeOf(anonymous)]).toEqual(keyed ? [401, 'missing_token'] : [403, 'forbidden_topic'])
      for (const token of [mallory, everything()].filter((token) => token !== undefined)) {
        const withToken = await forge(suite.base, `chat/room/${room}`, lie, token)
        expect([withToken.status, await codeOf(withToken)]).toEqual([403, 'forbidden_topic'])
      }
      const socket = await WsClient.open(`${suite.wsBase}/ws`)
      await socket.request({ type: 'auth', token: mallory })
      expect(await socket.request({ type: 'publish', topic: `chat/room/${room}`, data: lie.data })).toMatchObject({ type: 'error', code: 'forbidden_topic' })
      socket.close()
      // Through the chat's own route, with a "from" in the body: the server stamps the token's sub.
      expect((await chatPost(suite.base, `/chat/rooms/${room}/messages`, { from: 'ada2', text: 'I am ada2, honest' }, mallory)).status).toBe(200)
      // Without a token, with a token signed by someone else, with ada's name and another key.
      expect(await codeOf(await chatPost(suite.base, `/chat/rooms/${room}/messages`, { from: 'ada2', text: 'no token' }))).toBe('missing_token')
      const foreign = signToken({ secret: 'not-this-servers-secret-0123456789abcdef', sub: 'ada2', subscribe: ['chat/**'], ttlMs: 60_000 })
      const forgedToken = await chatPost(suite.base, `/chat/rooms/${room}/messages`, { text: 'a forged token' }, foreign)
      expect([forgedToken.status, await codeOf(forgedToken)]).toEqual([401, 'invalid_token'])
      const stolenName = await requestToken(suite.base, { name: 'ada2', key: 'someone-elses-key-0123' })
      expect([stolenName.status, await codeOf(stolenName)]).toEqual([409, 'name_taken'])

      await say(ada.page, 'the real ada2')
      await ada.page.locator('#messages li', { hasText: 'the real ada2' }).waitFor({ timeout: 5000 })
      const lines = (await lineTexts(ada.page)).filter((text) => !text.includes('joined') && !text.includes('left'))
      expect(lines).toEqual(['mallory2: I am ada2, honest', 'ada2: the real ada2'])
      await screenshot(ada.page, `attacks-chat-laptop-${slug}`)
      expect(ada.errors).toEqual([])
    } finally {
      await ada.context.close()
    }
  })

  test('fake presence: a forged roster or join is refused, and nobody who is not connected enters the roster', async () => {
    const room = `roster-${slug}`
    const [amy, ben] = await Promise.all([join('amy3', room, VIEWPORTS.phone), join('ben3', room)])
    try {
      for (const page of [amy.page, ben.page]) await page.waitForFunction(() => document.querySelectorAll('#online li').length === 2)
      const { token: mallory } = await chatToken(suite.base, 'mallory3', 'mallory3-key-0123456789')
      const tokens = [undefined, mallory, everything()].filter((token, index) => index === 0 || token !== undefined)
      for (const token of tokens) {
        for (const [topic, event, data] of [
          [`chat/presence/${room}`, 'presence', { room, users: ['amy3', 'ben3', 'admin', 'mallory3'] }],
          [`chat/room/${room}`, 'join', { user: 'admin' }],
        ] as const) {
          const response = await forge(suite.base, topic, { event, data }, token)
          expect({ topic, token: token !== undefined, status: response.status }).toEqual({ topic, token: token !== undefined, status: token === undefined && keyed ? 401 : 403 })
        }
      }
      // Mallory's token asks the route to put her in the roster, but no page of hers is connected.
      const refused = await chatPost(suite.base, `/chat/rooms/${room}/join`, {}, mallory)
      expect([refused.status, await codeOf(refused)]).toEqual([409, 'not_subscribed'])
      expect(await codeOf(await chatPost(suite.base, `/chat/rooms/${room}/join`))).toBe('missing_token')
      // A newcomer's roster arrives after all that: still exactly the two who are here.
      const cat = await join('cat3', room)
      for (const page of [amy.page, ben.page, cat.page]) await page.waitForFunction(() => document.querySelectorAll('#online li').length === 3)
      expect(await onlineList(amy.page)).toEqual(['amy3 (you)', 'ben3', 'cat3'])
      await screenshot(amy.page, `attacks-chat-phone-${slug}`)
      await cat.context.close()
      expect(amy.errors).toEqual([])
      expect(ben.errors).toEqual([])
    } finally {
      await amy.context.close()
      await ben.context.close()
    }
  })
})

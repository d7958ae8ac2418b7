import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { POST_MAX_CHARS } from '../../src/demos/feed/form'
import { escapeHtml, html } from '../../src/demos/feed/html'
import { isUserName, randomUserName } from '../../src/demos/feed/names'
import { listUpdate } from '../../src/demos/feed/routes'
import { FeedStore } from '../../src/demos/feed/store'
import { SseClient, startServer, type TestServer, waitFor } from '../helpers'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const HTMX = { ...FORM, 'hx-request': 'true' }

/** A visitor: keeps the cookie the server gives it, like a browser. */
class Visitor {
  cookie = ''
  constructor(private readonly base: string) {}

  async get(path = '/feed'): Promise<Response> {
    return this.remember(await fetch(`${this.base}${path}`, { headers: this.cookie ? { cookie: this.cookie } : {} }))
  }

  async post(message: string, headers: Record<string, string> = HTMX): Promise<Response> {
    return this.remember(await fetch(`${this.base}/feed/posts`, { method: 'POST', redirect: 'manual', headers: { ...headers, ...(this.cookie ? { cookie: this.cookie } : {}) }, body: new URLSearchParams({ message }) }))
  }

  get name(): string {
    return this.cookie.split('=')[1] ?? ''
  }

  private remember(response: Response): Response {
    const set = response.headers.get('set-cookie')
    if (set) this.cookie = set.split(';')[0] as string
    return response
  }
}

const postTexts = (page: string) => [...page.matchAll(/<p class="post-text">([^<]*)<\/p>/g)].map((match) => match[1])

let server: TestServer
beforeAll(async () => {
  server = await startServer({ feedDb: ':memory:' })
})
afterAll(() => server.stop())

describe('GET /feed', () => {
  test('a new visitor gets a random name in an httpOnly cookie, and keeps it', async () => {
    const visitor = new Visitor(server.base)
    const first = await visitor.get()
    expect(first.status).toBe(200)
    expect(first.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const cookie = first.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/^herald_feed_user=[a-z]+-[a-z]+-\d+; /)
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Lax')
    expect(await first.text()).toContain(`You are <strong id="me">${visitor.name}</strong>`)
    const again = await visitor.get()
    expect(again.headers.get('set-cookie')).toBeNull()
    expect(await again.text()).toContain(`<strong id="me">${visitor.name}</strong>`)
  })

  test('a cookie that is not one of our names is replaced, not shown', async () => {
    const response = await fetch(`${server.base}/feed`, { headers: { cookie: 'herald_feed_user=<script>alert(1)</script>' } })
    const page = await response.text()
    expect(page).not.toContain('<script>alert')
    expect(response.headers.get('set-cookie')).toMatch(/^herald_feed_user=[a-z]+-[a-z]+-\d+;/)
  })

  test('the page loads htmx, its SSE extension and idiomorph from Herald, and subscribes to the feed topic', async () => {
    const page = await (await fetch(`${server.base}/feed`)).text()
    expect(page).toContain('<script src="/vendor/htmx.min.js" defer></script>')
    expect(page).toContain('<script src="/vendor/htmx-ext-sse.js" defer></script>')
    expect(page).toContain('<script src="/vendor/idiomorph-ext.min.js" defer></script>')
    expect(page).toMatch(/hx-ext="sse" sse-connect="\/events\?topic=feed&amp;lastEventId=\d+-\d+"/)
    // The update is swapped into #posts, inside hx-disable: htmx never acts on what it brings.
    expect(page).toContain('<div id="feed-updates" sse-swap="posts" hx-target="#posts" hx-swap="morph:innerHTML" hidden></div>\n<div hx-disable>\n<ol id="posts" class="posts">')
    expect(page).toContain('<textarea id="message" name="message" rows="3" required')
    expect(page).not.toMatch(/https?:\/\//)
  })
})

describe('an empty feed', () => {
  test('renders a list with nothing in it, not even white space, so the empty note shows (CSS :empty)', async () => {
    const fresh = await startServer({ feedDb: ':memory:' })
    try {
      const page = await (await fetch(`${fresh.base}/feed`)).text()
      expect(page).toContain('<ol id="posts" class="posts"></ol>\n<p class="empty">No posts yet.')
    } finally {
      await fresh.stop()
    }
  })

  test('a post time is a <time> with its UTC moment, for the page to show in the viewer\'s zone', async () => {
    const visitor = new Visitor(server.base)
    expect((await visitor.post('what time is it')).status).toBe(201)
    const page = await (await visitor.get()).text()
    const [, at, shown] = /<time datetime="([^"]+)" title="\1">([^<]+)<\/time>/.exec(page) ?? []
    expect(new Date(at as string).toISOString()).toBe(at as string)
    expect(shown).toBe(`${(at as string).slice(11, 16)} UTC`)
  })
})

describe('POST /feed/posts', () => {
  test('stores the post, answers htmx with a fresh form, and publishes the list to every open page', async () => {
    const visitor = new Visitor(server.base)
    await visitor.get()
    const sse = await SseClient.open(`${server.base}/events?topic=feed`)
    await waitFor(() => sse.raw.length > 0, 'the feed stream to open')

    const response = await visitor.post('first post\r\nsecond line')
    expect(response.status).toBe(201)
    const form = await response.text()
    expect(form).toStartWith('<form id="post-form"')
    expect(form).toContain('autofocus></textarea>')

    const [update] = await sse.waitForMessages(1)
    sse.close()
    expect(update?.event).toBe('posts')
    expect(update?.data).toContain(`data-author="${visitor.name}"`)
    expect(update?.data).toContain('<p class="post-text">first post\nsecond line</p>')
    expect(postTexts(await (await visitor.get()).text())[0]).toBe('first post\nsecond line')
  })

  test('HTML in a post is escaped, on the page and in the live update', async () => {
    const visitor = new Visitor(server.base)
    const sse = await SseClient.open(`${server.base}/events?topic=feed`)
    await waitFor(() => sse.raw.length > 0, 'the feed stream to open')
    const attack = `<script>alert("x")</script><img src=x onerror='alert(1)'> & done`
    expect((await visitor.post(attack)).status).toBe(201)
    const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=&#39;alert(1)&#39;&gt; &amp; done'
    const [update] = await sse.waitForMessages(1)
    sse.close()
    expect(update?.data).toContain(`<p class="post-text">${escaped}</p>`)
    const page = await (await visitor.get()).text()
    expect(page).toContain(`<p class="post-text">${escaped}</p>`)
    expect(page).not.toContain('<script>alert')
  })

  test.each([
    ['empty', '', 400, 'Write something first: the message is empty.'],
    ['only spaces and newlines', '  \n\t ', 400, 'Write something first: the message is empty.'],
    ['one character too long', 'y'.repeat(POST_MAX_CHARS + 1), 413, `That message is ${POST_MAX_CHARS + 1} characters; the limit is ${POST_MAX_CHARS}. Shorten it and post again.`],
  ])('%s: refused with the right status and the error in the form', async (_name, message, status, error) => {
    const visitor = new Visitor(server.base)
    const before = postTexts(await (await visitor.get()).text()).length
    const response = await visitor.post(message)
    expect(response.status).toBe(status)
    const form = await response.text()
    expect(form).toStartWith('<form id="post-form"')
    expect(form).toContain(`<p id="message-error" class="form-error" role="alert">${error}</p>`)
    expect(form).toContain('aria-invalid="true"')
    // An oversized message comes back in the textarea for editing.
    if (status === 413) expect(form).toContain(`>${message}</textarea>`)
    expect(postTexts(await (await visitor.get()).text())).toHaveLength(before)
  })

  test('the limit counts characters, not bytes: 500 emoji are fine', async () => {
    const visitor = new Visitor(server.base)
    expect((await visitor.post('🎉'.repeat(POST_MAX_CHARS))).status).toBe(201)
  })

  test('a body far over the limit is refused before it is read', async () => {
    const visitor = new Visitor(server.base)
    const response = await visitor.post('z'.repeat(40_000))
    expect(response.status).toBe(413)
    expect(await response.text()).toContain('That message is far too long')
  })

  test('JSON is refused with 415', async () => {
    const response = await fetch(`${server.base}/feed/posts`, { method: 'POST', headers: { 'content-type': 'application/json', 'hx-request': 'true' }, body: '{"message":"hi"}' })
    expect(response.status).toBe(415)
  })

  test('without htmx (no JavaScript): a post redirects to the feed, an error renders the whole page', async () => {
    const visitor = new Visitor(server.base)
    const ok = await visitor.post('posted without JavaScript', FORM)
    expect(ok.status).toBe(303)
    expect(ok.headers.get('location')).toBe('/feed')
    const refused = await visitor.post('', FORM)
    expect(refused.status).toBe(400)
    const page = await refused.text()
    expect(page).toStartWith('<!doctype html>')
    expect(page).toContain('Write something first')
    expect(postTexts(page)).toContain('posted without JavaScript')
  })
})

describe('storage', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-feed-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('posts survive a restart (two app instances on the same file)', async () => {
    const path = join(dir, 'feed.sqlite')
    const first = await startServer({ feedDb: path })
    const visitor = new Visitor(first.base)
    expect((await visitor.post('written before the restart')).status).toBe(201)
    await first.stop()

    const second = await startServer({ feedDb: path })
    try {
      const page = await (await fetch(`${second.base}/feed`)).text()
      expect(postTexts(page)).toEqual(['written before the restart'])
    } finally {
      await second.stop()
    }
  })

  test('the file is created on the first feed request, not at start-up', async () => {
    const path = join(dir, 'lazy.sqlite')
    const server = await startServer({ feedDb: path })
    try {
      expect((await fetch(`${server.base}/`)).status).toBe(200)
      expect(await Bun.file(path).exists()).toBe(false)
      expect((await fetch(`${server.base}/feed`)).status).toBe(200)
      expect(await Bun.file(path).exists()).toBe(true)
    } finally {
      await server.stop()
    }
  })

  test('a database that cannot be opened gives a 503 page that names it', async () => {
    const path = join(dir, 'missing-directory', 'feed.sqlite')
    const server = await startServer({ feedDb: path })
    try {
      const page = await fetch(`${server.base}/feed`)
      expect(page.status).toBe(503)
      expect(await page.text()).toContain(path)
      const post = await new Visitor(server.base).post('hello')
      expect(post.status).toBe(503)
      expect(await post.text()).toContain('The feed cannot store posts right now')
    } finally {
      await server.stop()
    }
  })

  test('the store keeps the newest posts first and honours the limit', () => {
    const store = FeedStore.open(':memory:')
    for (const text of ['a', 'b', 'c']) store.add('brave-otter-1', text)
    expect(store.latest(2).map((post) => post.text)).toEqual(['c', 'b'])
    expect(store.latest(10).map((post) => post.id)).toEqual([3, 2, 1])
    store.close()
  })
})

describe('rendering', () => {
  test('escapeHtml and the html template escape everything but Html', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;')
    const inner = html`<b>${'<i>'}</b>`
    expect(html`<p>${inner}${['<', html`<br>`]}${null}${undefined}${false}${0}</p>`.text).toBe('<p><b>&lt;i&gt;</b>&lt;<br>0</p>')
  })

  test('a live update drops the oldest posts until it fits the message limit', () => {
    const posts = Array.from({ length: 10 }, (_, i) => ({ id: 10 - i, author: 'calm-owl-2', text: 'p'.repeat(100), at: '2026-01-01T00:00:00.000Z' }))
    const whole = listUpdate(posts, 0)
    expect(whole.match(/<li /g)).toHaveLength(10)
    const limit = Math.floor(Buffer.byteLength(whole) / 2)
    const fitted = listUpdate(posts, limit)
    expect(Buffer.byteLength(fitted)).toBeLessThanOrEqual(limit)
    expect(fitted).toContain('id="post-10"')
    expect(fitted).not.toContain('id="post-1"')
  })

  test('random names are readable and recognised', () => {
    for (let i = 0; i < 50; i++) expect(isUserName(randomUserName())).toBe(true)
    expect(isUserName('<script>')).toBe(false)
    expect(isUserName('a-b-1; x')).toBe(false)
  })
})

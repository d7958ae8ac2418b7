import { Elysia } from 'elysia'
import { PAGE_HEADERS } from '../../api/csp'
import type { Hub } from '../../hub/hub'
import type { Logger } from '../../log'
import { readPostForm } from './form'
import { type Html, html } from './html'
import { isUserName, randomUserName } from './names'
import { type FormState, feedPage, postForm, postItems } from './render'
import type { ClusterKeys } from '../../cluster/keys'
import type { ClusterLink } from '../../cluster/link'
import { RedisFeedStore } from './redis-store'
import { FeedStore, type Post } from './store'

/** The topic every feed page subscribes to; each new post publishes the list to it as a `posts` event. */
export const FEED_TOPIC = 'feed'
/** Posts shown on the page and sent in each update. */
export const FEED_LENGTH = 50
/** The visitor's name lives in this cookie (a year; httpOnly). */
const COOKIE = 'herald_feed_user'

export interface FeedOptions {
  /** bun:sqlite path for the posts, or `:memory:`. Opened on the first feed request, so a server that never serves the feed creates no file. */
  feedDb: string
  /** The hub's data limit: an update that would exceed it drops the oldest posts from the update. */
  maxMessageBytes: number
}

/** Where a cluster's feed keeps its posts (every node the same), instead of `feedDb`. */
export interface SharedFeed {
  link: ClusterLink
  keys: ClusterKeys
}

/** The posts, wherever they live: a sqlite file of this node's, or Redis shared by the cluster. */
type FeedPosts = Pick<FeedStore, 'close'> & {
  add(author: string, text: string): Post | Promise<Post>
  latest(limit: number): Post[] | Promise<Post[]>
  readonly shared?: boolean
  newestId?(): Promise<number>
}

interface Cookie {
  value: unknown
  set(config: { value: string; httpOnly: boolean; sameSite: 'lax'; path: string; maxAge: number }): unknown
}

function page(set: { headers: Record<string, unknown> }, body: Html): string {
  Object.assign(set.headers, PAGE_HEADERS)
  set.headers['content-type'] = 'text/html; charset=utf-8'
  set.headers['cache-control'] = 'no-store'
  return body.text
}

/** True for a request htmx made (it wants a fragment, not a page). */
function isHtmx(request: Request): boolean {
  return request.headers.get('hx-request') === 'true'
}

function unavailable(path: string, shared: boolean): Html {
  if (shared) return html`<!doctype html><html lang="en"><meta charset="utf-8"><link rel="stylesheet" href="/assets/herald.css"><title>Feed unavailable · Herald</title><main class="container narrow"><h1>The feed is unavailable</h1><p>Its posts live in ${path}, which this node cannot reach right now; the server log says why. Try again shortly.</p></main></html>`
  return html`<!doctype html><html lang="en"><meta charset="utf-8"><link rel="stylesheet" href="/assets/herald.css"><title>Feed unavailable · Herald</title><main class="container narrow"><h1>The feed is unavailable</h1><p>Its database, <code>${path}</code>, could not be opened or written; the server log says why. Set <code>--feed-db</code> (or <code>HERALD_FEED_DB</code>) to a writable file, or to <code>:memory:</code>.</p></main></html>`
}

/** The list as it goes out over SSE, shortened from the oldest end until it fits the hub's limit. */
export function listUpdate(posts: readonly Post[], maxBytes: number): string {
  let shown = posts.length
  let text = postItems(posts).text
  while (shown > 1 && maxBytes > 0 && Buffer.byteLength(text) > maxBytes) text = postItems(posts.slice(0, --shown)).text
  return text
}

/**
 * The HTMX live feed: `GET /feed` renders the page, `POST /feed/posts` stores a post and publishes
 * the new list to FEED_TOPIC, which every open page swaps in with idiomorph. Posts are escaped
 * when rendered. Works without JavaScript too (plain form post, then a redirect).
 */
export function liveFeed(hub: Hub, options: FeedOptions, log: Logger, shared?: SharedFeed) {
  let store: FeedPosts | undefined
  const posts = (): FeedPosts => {
    store ??= shared ? new RedisFeedStore(shared.link, shared.keys) : FeedStore.open(options.feedDb)
    return store
  }
  const where = shared ? `Redis (${shared.keys.prefix}:feed:posts)` : options.feedDb
  const visitor = (cookie: Record<string, Cookie>): string => {
    const jar = cookie[COOKIE]
    if (jar && isUserName(jar.value)) return jar.value
    const name = randomUserName()
    jar?.set({ value: name, httpOnly: true, sameSite: 'lax', path: '/', maxAge: 365 * 24 * 3600 })
    return name
  }
  const view = async (user: string, form?: FormState) => feedPage({ user, posts: await posts().latest(FEED_LENGTH), streamUrl: `/events?topic=${FEED_TOPIC}&lastEventId=${hub.head}`, form })
  /** Publishes the newest list; on a cluster, again when another node's post landed after this one's list was read (their update may have been ordered first). */
  const update = async () => {
    const list = await posts().latest(FEED_LENGTH)
    await hub.publish([{ topic: FEED_TOPIC, event: 'posts', data: listUpdate(list, options.maxMessageBytes) }])
    const newest = await posts().newestId?.()
    if (newest !== undefined && newest > (list[0]?.id ?? 0)) await hub.publish([{ topic: FEED_TOPIC, event: 'posts', data: listUpdate(await posts().latest(FEED_LENGTH), options.maxMessageBytes) }])
  }

  /** Runs a handler; if the database cannot be opened or written, answers a 503 page saying so (not Elysia's JSON 500). */
  const guard = async (request: Request, set: { status?: number | string; headers: Record<string, unknown> }, handler: () => string | Promise<string>): Promise<string> => {
    try {
      return await handler()
    } catch (error) {
      log.error('feed database failed', { feedDb: where, error })
      set.status = 503
      if (isHtmx(request)) return page(set, postForm({ error: shared ? 'The feed cannot store posts right now (Redis is unreachable); try again shortly.' : 'The feed cannot store posts right now (its database is unavailable); the server log says why.' }))
      return page(set, unavailable(where, shared !== undefined))
    }
  }

  return new Elysia({ name: 'herald-feed' })
    .onStop(() => {
      store?.close()
      store = undefined
    })
    .get('/feed', ({ request, cookie, set }) => guard(request, set, async () => page(set, await view(visitor(cookie as Record<string, Cookie>)))), {
      detail: { tags: ['Demos'], summary: 'The HTMX live feed page' },
    })
    .post(
      '/feed/posts',
      ({ request, cookie, set }) => guard(request, set, async () => {
        const user = visitor(cookie as Record<string, Cookie>)
        const form = await readPostForm(request)
        const fromHtmx = isHtmx(request)
        if (!form.ok) {
          set.status = form.status
          const state = { text: form.text, error: form.error }
          return page(set, fromHtmx ? postForm(state) : await view(user, state))
        }
        await posts().add(user, form.text)
        try {
          await update()
        } catch (error) {
          // The post is stored; open pages just miss this update (a reload shows it).
          log.warn('feed update not published', { error })
        }
        if (!fromHtmx) {
          set.status = 303
          set.headers.location = '/feed'
          return ''
        }
        set.status = 201
        return page(set, postForm({ autofocus: true }))
      }),
      {
        // Read by readPostForm with its own size limit, so Elysia must leave the body alone.
        parse: 'none',
        detail: {
          tags: ['Demos'],
          summary: 'Post to the live feed (form field "message"; the author is the visitor cookie)',
          description: '201 with a fresh form fragment for htmx (303 to /feed for a plain form); 400 when empty, 413 when longer than 500 characters, each with the form showing the error.',
        },
      },
    )
}

import { Elysia } from 'elysia'
import htmxSse from 'htmx-ext-sse/dist/sse.js' with { type: 'file' }
import htmx from 'htmx.org/dist/htmx.min.js' with { type: 'file' }
import idiomorph from 'idiomorph/dist/idiomorph-ext.min.js' with { type: 'file' }
import chatHtml from '../../public/chat.html' with { type: 'file' }
import chatJs from '../../public/chat.js' with { type: 'file' }
import feedJs from '../../public/feed.js' with { type: 'file' }
import favicon from '../../public/favicon.svg' with { type: 'file' }
import heartbeatHtml from '../../public/heartbeat.html' with { type: 'file' }
import heartbeatJs from '../../public/heartbeat.js' with { type: 'file' }
import css from '../../public/herald.css' with { type: 'file' }
import indexHtml from '../../public/index.html' with { type: 'file' }
import indexJs from '../../public/index.js' with { type: 'file' }
import { PAGE_HEADERS } from '../api/csp'
import { type StaticAsset, staticHandler } from '../api/static'

/**
 * `with { type: 'file' }` makes every import a path string. bun-types declares `*.html` imports as
 * an HTMLBundle (for Bun's HTML bundler, used without the attribute), so HTML paths are narrowed here.
 */
const html = (file: string | Bun.HTMLBundle): string => file as string

const HTML = 'text/html; charset=utf-8'
const JS = 'text/javascript; charset=utf-8'
/** Vendored files change only with a dependency upgrade; a day of caching, then ETag revalidation. */
const VENDOR_CACHE = 'public, max-age=86400'

/**
 * Every page and browser file Herald serves, by URL. Each is imported `with { type: 'file' }`, so
 * `bun build --compile` embeds it: nothing is read from disk by path and nothing comes from a CDN.
 * Third-party code is installed from npm at pinned versions (package.json) and served from here.
 * The live feed page is not here: it is rendered per request (src/demos/feed).
 */
export const PAGES: Readonly<Record<string, StaticAsset>> = {
  '/': { path: html(indexHtml), type: HTML },
  '/index.html': { path: html(indexHtml), type: HTML },
  '/heartbeat.html': { path: html(heartbeatHtml), type: HTML },
  '/chat.html': { path: html(chatHtml), type: HTML },
  '/assets/herald.css': { path: css, type: 'text/css; charset=utf-8' },
  '/assets/favicon.svg': { path: favicon, type: 'image/svg+xml' },
  '/assets/index.js': { path: indexJs, type: JS },
  '/assets/heartbeat.js': { path: heartbeatJs, type: JS },
  '/assets/chat.js': { path: chatJs, type: JS },
  '/assets/feed.js': { path: feedJs, type: JS },
  // htmx 2 (htmx-ext-sse 2.x needs htmx 2, not 4), its SSE extension, and idiomorph's htmx extension ("morph").
  '/vendor/htmx.min.js': { path: htmx, type: JS, cacheControl: VENDOR_CACHE },
  '/vendor/htmx-ext-sse.js': { path: htmxSse, type: JS, cacheControl: VENDOR_CACHE },
  '/vendor/idiomorph-ext.min.js': { path: idiomorph, type: JS, cacheControl: VENDOR_CACHE },
}

/**
 * Serves PAGES (with ETags, gzip and 304s: see staticHandler); HTML gets PAGE_HEADERS. Hidden from
 * the OpenAPI document. `index: false` leaves `/` and `/index.html` to a `--static` folder.
 */
export function pages({ index = true }: { index?: boolean } = {}) {
  const app = new Elysia({ name: 'herald-pages' })
  for (const [url, asset] of Object.entries(PAGES)) {
    // With --static, `/` and `/index.html` are the user's own front-end.
    if (!index && (url === '/' || url === '/index.html')) continue
    const serve = staticHandler(asset)
    const isPage = asset.type === HTML
    app.get(
      url,
      async ({ request }) => {
        const response = await serve(request)
        if (isPage) for (const [name, value] of Object.entries(PAGE_HEADERS)) response.headers.set(name, value)
        return response
      },
      { detail: { hide: true } },
    )
  }
  return app
}

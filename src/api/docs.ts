import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
import swaggerBundle from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import swaggerCss from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }
import favicon from 'swagger-ui-dist/favicon-32x32.png' with { type: 'file' }
import { VERSION } from '../config'
import { PAGE_HEADERS } from './csp'
import { BEARER, BEARER_SCHEME } from './openapi-security'
import { publishSchemas, TOPIC_PATH_DOC } from './publish'
import { staticHandler } from './static'

const ASSETS = '/swagger/assets'
const LONG_CACHE = 'public, max-age=86400'

/** The API's title and description: in the OpenAPI document, and in the page's <title> and meta tags (escaped there). */
export const API_INFO = {
  title: 'Herald',
  version: VERSION,
  description: 'Publish events to topics; subscribe over Server-Sent Events (GET /events) or WebSocket (GET /ws). Topics: segments joined by "/", subscriptions may use * (one segment) and a final ** (any depth).',
} as const

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Text made safe for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char)
}

/**
 * The Swagger UI page. Built here rather than by @elysiajs/openapi, whose page (1.4.16) puts the
 * description into `content="…"` unescaped, so the quotes around "/" ended the attribute, and
 * starts Swagger UI from an inline script. Every value is escaped, and the start-up script is a
 * file of its own, so the page is served with the same Content-Security-Policy as the demo pages.
 */
export function swaggerPage(): string {
  const title = escapeHtml(API_INFO.title)
  const description = escapeHtml(API_INFO.description)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<meta name="description" content="${description}">
<meta property="og:description" content="${description}">
<link rel="icon" href="${ASSETS}/favicon.png" type="image/png">
<link rel="stylesheet" href="${ASSETS}/swagger-ui.css">
<link rel="stylesheet" href="${ASSETS}/dark.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${ASSETS}/swagger-ui-bundle.js"></script>
<script src="${ASSETS}/start.js"></script>
</body>
</html>
`
}

/** Starts Swagger UI on the OpenAPI document (JSON in a script: `<` escaped so no value can end the script). */
const START_SCRIPT = `window.ui = SwaggerUIBundle(${JSON.stringify({ url: '/swagger/json', dom_id: '#swagger-ui' }).replace(/</g, '\\u003c')})\n`

/** The plugin page's dark mode: Swagger UI has none of its own, so the page is inverted. */
const DARK_CSS = `@media (prefers-color-scheme: dark) {
  body { background-color: #222; }
  .swagger-ui { filter: invert(92%) hue-rotate(180deg); }
  .swagger-ui .microlight { filter: invert(100%) hue-rotate(180deg); }
}
`

/**
 * Swagger UI at /swagger and the OpenAPI document at /swagger/json. The page and its assets are
 * served by Herald (swagger-ui-dist is embedded in the binary), so the docs work offline.
 */
export function docs() {
  const page = swaggerPage()
  return new Elysia({ name: 'herald-docs' })
    .get('/swagger', () => new Response(page, { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...PAGE_HEADERS } }), { detail: { hide: true } })
    .get(`${ASSETS}/start.js`, () => new Response(START_SCRIPT, { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' } }), { detail: { hide: true } })
    .get(`${ASSETS}/dark.css`, () => new Response(DARK_CSS, { headers: { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache' } }), { detail: { hide: true } })
    .get(`${ASSETS}/swagger-ui-bundle.js`, ({ request }) => staticHandler({ path: swaggerBundle, type: 'text/javascript; charset=utf-8', cacheControl: LONG_CACHE })(request), { detail: { hide: true } })
    .get(`${ASSETS}/swagger-ui.css`, ({ request }) => staticHandler({ path: swaggerCss, type: 'text/css; charset=utf-8', cacheControl: LONG_CACHE })(request), { detail: { hide: true } })
    .get(`${ASSETS}/favicon.png`, ({ request }) => staticHandler({ path: favicon, type: 'image/png', cacheControl: LONG_CACHE })(request), { detail: { hide: true } })
    .use(
      openapi({
        path: '/swagger',
        specPath: '/swagger/json',
        // The page is ours (swaggerPage); the plugin makes only the document.
        provider: null,
        documentation: {
          info: { ...API_INFO },
          tags: [
            { name: 'Publish', description: 'Send events to topics' },
            { name: 'Subscribe', description: 'Receive events' },
            { name: 'Operations', description: 'Health and statistics' },
          ],
          // The Authorize button. Each operation that reads a token lists the scheme itself
          // (openapi-security.ts): Swagger UI sends a pasted token to those only.
          components: { schemas: publishSchemas as never, securitySchemes: { [BEARER]: BEARER_SCHEME } },
          paths: { '/topics/{topic}': TOPIC_PATH_DOC as never },
        },
      }),
    )
}

import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
import swaggerBundle from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import swaggerCss from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }
import favicon from 'swagger-ui-dist/favicon-32x32.png' with { type: 'file' }
import { VERSION } from '../config'
import { publishSchemas, TOPIC_PATH_DOC } from './publish'
import { staticHandler } from './static'

const ASSETS = '/swagger/assets'
const LONG_CACHE = 'public, max-age=86400'

/**
 * Swagger UI at /swagger and the OpenAPI document at /swagger/json. The plugin's page loads its
 * script and stylesheet from a CDN by default; they are pointed at copies from swagger-ui-dist that
 * are embedded in the binary, so the docs work offline.
 */
export function docs() {
  return new Elysia({ name: 'herald-docs' })
    .get(`${ASSETS}/swagger-ui-bundle.js`, ({ request }) => staticHandler({ path: swaggerBundle, type: 'text/javascript; charset=utf-8', cacheControl: LONG_CACHE })(request), { detail: { hide: true } })
    .get(`${ASSETS}/swagger-ui.css`, ({ request }) => staticHandler({ path: swaggerCss, type: 'text/css; charset=utf-8', cacheControl: LONG_CACHE })(request), { detail: { hide: true } })
    .get(`${ASSETS}/favicon.png`, ({ request }) => staticHandler({ path: favicon, type: 'image/png', cacheControl: LONG_CACHE })(request), { detail: { hide: true } })
    .use(
      openapi({
        path: '/swagger',
        specPath: '/swagger/json',
        provider: 'swagger-ui',
        swagger: { cdn: `${ASSETS}/swagger-ui-bundle.js`, theme: `${ASSETS}/swagger-ui.css`, version: '5', autoDarkMode: true },
        documentation: {
          info: {
            title: 'Herald',
            version: VERSION,
            description: 'Publish events to topics; subscribe over Server-Sent Events (GET /events) or WebSocket (GET /ws). Topics: segments joined by "/", subscriptions may use * (one segment) and a final ** (any depth).',
          },
          tags: [
            { name: 'Publish', description: 'Send events to topics' },
            { name: 'Subscribe', description: 'Receive events' },
            { name: 'Operations', description: 'Health and statistics' },
          ],
          components: { schemas: publishSchemas as never },
          paths: { '/topics/{topic}': TOPIC_PATH_DOC as never },
        },
      }),
    )
}

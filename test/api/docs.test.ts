import { afterAll, beforeAll, expect, test } from 'bun:test'
import { TOPIC_BODY_FIELDS } from '../../src/api/publish'
import { API_INFO, escapeHtml } from '../../src/api/docs'
import { VERSION } from '../../src/config'
import { PUBLISH_FIELDS } from '../../src/hub/event'
import { startServer, type TestServer } from '../helpers'

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.stop())

test('GET /healthz answers the version and uptime', async () => {
  const response = await fetch(`${server.base}/healthz`)
  expect(response.status).toBe(200)
  expect(await response.json()).toEqual({ status: 'ok', version: VERSION, uptime: expect.any(Number) })
})

test('the Swagger UI page loads its script and stylesheet from Herald, not a CDN', async () => {
  const response = await fetch(`${server.base}/swagger`)
  expect(response.status).toBe(200)
  const html = await response.text()
  expect(html).toContain('<div id="swagger-ui"></div>')
  const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string)
  expect(sources.length).toBeGreaterThanOrEqual(2)
  for (const source of sources) {
    expect(source).toStartWith('/')
    const asset = await fetch(`${server.base}${source}`)
    expect(asset.status).toBe(200)
  }
  expect(html).not.toMatch(/https?:\/\//)
  // Swagger UI is started by a script file of Herald's (the page's CSP allows no inline script).
  const start = await (await fetch(`${server.base}/swagger/assets/start.js`)).text()
  expect(start).toContain('SwaggerUIBundle(')
  expect(start).toContain('"/swagger/json"')
})

test("the Swagger page's meta description is the API description, whole: its quotes are escaped", async () => {
  const response = await fetch(`${server.base}/swagger`)
  const html = await response.text()
  expect(response.headers.get('content-security-policy')).toContain("script-src 'self'")
  // Parse the head the way a browser does (HTMLRewriter is Bun's streaming HTML parser) and read each meta's content.
  const metas: Record<string, string | null> = {}
  let title = ''
  await new HTMLRewriter()
    .on('meta[name], meta[property]', {
      element(element) {
        metas[element.getAttribute('name') ?? element.getAttribute('property') ?? ''] = element.getAttribute('content')
      },
    })
    .on('title', {
      text(chunk) {
        title += chunk.text
      },
    })
    .transform(new Response(html))
    .text()
  expect(API_INFO.description).toContain('"/"')
  expect(metas.description).toBe(API_INFO.description.replaceAll('"', '&quot;'))
  expect(metas['og:description']).toBe(API_INFO.description.replaceAll('"', '&quot;'))
  expect(title).toBe('Herald')
  // No stray attribute was made from the description's words.
  expect(html).not.toMatch(/content="[^"]*"\/"/)
  expect(escapeHtml('a "b" <c> & \'d\'')).toBe('a &quot;b&quot; &lt;c&gt; &amp; &#39;d&#39;')
})

test('the Swagger assets are served with their types, an ETag, and 304 on revalidation', async () => {
  const script = await fetch(`${server.base}/swagger/assets/swagger-ui-bundle.js`, { headers: { 'accept-encoding': 'gzip' } })
  expect(script.headers.get('content-type')).toStartWith('text/javascript')
  expect((await script.text()).length).toBeGreaterThan(100_000)
  const etag = script.headers.get('etag')
  expect(etag).toBeTruthy()
  const again = await fetch(`${server.base}/swagger/assets/swagger-ui-bundle.js`, { headers: { 'if-none-match': etag as string } })
  expect(again.status).toBe(304)
  const css = await fetch(`${server.base}/swagger/assets/swagger-ui.css`)
  expect(css.headers.get('content-type')).toStartWith('text/css')
})

test('the OpenAPI document describes the publish endpoints with schemas and examples', async () => {
  const spec = (await (await fetch(`${server.base}/swagger/json`)).json()) as {
    info: { title: string; version: string }
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> }; tags?: string[] }>>
    components: { schemas: Record<string, unknown> }
  }
  expect(spec.info).toMatchObject({ title: 'Herald', version: VERSION })
  expect(Object.keys(spec.paths).filter((path) => path.startsWith('/topics/'))).toEqual(['/topics/{topic}'])
  const topicPost = spec.paths['/topics/{topic}']?.post
  expect(topicPost?.requestBody?.content).toHaveProperty('application/json')
  expect(topicPost?.requestBody?.content).toHaveProperty('text/plain')
  expect(topicPost?.requestBody?.content).toHaveProperty('application/x-www-form-urlencoded')
  expect(spec.paths['/publish']?.post?.requestBody?.content).toHaveProperty('application/json')
  expect(spec.paths['/events']?.get?.tags).toEqual(['Subscribe'])
  expect(spec.components.schemas).toHaveProperty('TopicPublish')
  expect(spec.components.schemas).toHaveProperty('BatchPublish')
  expect(JSON.stringify(spec)).toContain('1764135000000-0')
})

test('the OpenAPI schemas list exactly the fields the server accepts, and no others', async () => {
  type ObjectSchema = { additionalProperties?: boolean; properties: Record<string, unknown> }
  const spec = (await (await fetch(`${server.base}/swagger/json`)).json()) as { components: { schemas: { TopicPublish: ObjectSchema; BatchPublish: { anyOf: [ObjectSchema, { items: ObjectSchema }] } } } }
  const { TopicPublish, BatchPublish } = spec.components.schemas
  expect(TopicPublish.additionalProperties).toBe(false)
  expect(Object.keys(TopicPublish.properties)).toEqual([...TOPIC_BODY_FIELDS])
  for (const item of [BatchPublish.anyOf[0], BatchPublish.anyOf[1].items]) {
    expect(item.additionalProperties).toBe(false)
    expect(Object.keys(item.properties)).toEqual([...PUBLISH_FIELDS])
  }
})

test('the document declares the bearer scheme, so Swagger UI shows Authorize; publish operations require it, subscribe ones take it, the others do not', async () => {
  type Operation = { security?: Array<Record<string, string[]>> }
  const doc = (await (await fetch(`${server.base}/swagger/json`)).json()) as { components: { securitySchemes: Record<string, { type: string; scheme: string }> }; security?: unknown; paths: Record<string, Record<string, Operation>> }
  expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
  // No document-wide requirement: Swagger UI would show a lock (and send the token) everywhere.
  expect(doc.security).toBeUndefined()
  expect(doc.paths['/topics/{topic}']?.post?.security).toEqual([{ bearer: [] }])
  expect(doc.paths['/publish']?.post?.security).toEqual([{ bearer: [] }])
  // Optional: public topics (and a Herald with no key) need no token.
  expect(doc.paths['/events']?.get?.security).toEqual([{ bearer: [] }, {}])
  expect(doc.paths['/ws']?.get?.security).toEqual([{ bearer: [] }, {}])
  const others = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).filter(([, operation]) => operation.security !== undefined).map(([method]) => `${method} ${path}`))
  expect(others.sort()).toEqual(['get /events', 'get /ws', 'post /publish', 'post /topics/{topic}'])
})

/**
 * A fresh app outside the repo that installed the packed herald tarball (test/examples/pack.test.ts
 * copies this file there): it uses `herald` by name, exactly as a user's app would, and is
 * type-checked against the package's emitted .d.ts under the strictest settings.
 */
import { Elysia } from 'elysia'
import { HubError, herald, type HeraldItem, type Published, sse } from 'herald'
import { connect, type HeraldError } from 'herald/client'

/** What a live route yields for each item: the event itself, or its own frame for a reset. */
function frame(item: HeraldItem) {
  return item.type === 'event' ? item : sse({ event: 'start-over', id: item.head, data: { head: item.head } })
}

// Settings that may be missing pass as they are (undefined = the default), strict settings or not.
const historySize = process.env.HISTORY_SIZE ? Number(process.env.HISTORY_SIZE) : undefined

const app = new Elysia()
  .use(herald({ prefix: '/rt', historySize, logger: undefined }))
  // As README.md writes it (an explicit `?? undefined` under exactOptionalPropertyTypes).
  .get('/things/:id/live', async function* ({ herald, params, request }) {
    for await (const item of herald.subscribe(`things/${params.id}`, { signal: request.signal, lastEventId: request.headers.get('last-event-id') ?? undefined })) yield frame(item)
  })
  .post('/things/:id', ({ herald, params, body, query }): Promise<Published> => herald.publish(`things/${params.id}`, body, { event: query.event ?? 'thing', id: query.id }))
  // HubError is the package's own class: instanceof works across the import.
  .post('/bad', async ({ herald }) => {
    try {
      await herald.publish('things//x', 1)
      return 'published'
    } catch (error) {
      return error instanceof HubError ? error.code : 'not a HubError'
    }
  })
  .listen({ port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' })

console.log(`port=${app.server?.port}`)

// herald/client against this app: subscribe over each transport, publish once, read the event back.
const client = connect({ url: `http://127.0.0.1:${app.server?.port}/rt` })
const stop = new AbortController()
const readers = (['sse', 'ws'] as const).map((transport) => {
  let opened: () => void = () => {}
  const open = new Promise<void>((resolve) => (opened = resolve))
  const subscription = client.subscribe('client/check', { transport, signal: stop.signal, onOpen: () => opened() })
  const first = (async () => {
    for await (const item of subscription) if (item.type === 'event') return [transport, item.data] as const
    return [transport, undefined] as const
  })()
  return { open, first }
})
await Promise.all(readers.map((reader) => reader.open))
const published = await client.publish('client/check', 'hello client').catch((error: HeraldError) => error.code)
if (typeof published === 'string') throw new Error(`client publish failed: ${published}`)
const received = Object.fromEntries(await Promise.all(readers.map((reader) => reader.first)))
stop.abort()
client.close()
console.log(`client=${JSON.stringify(received)}`)

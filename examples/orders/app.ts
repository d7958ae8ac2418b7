/**
 * A shop's order service with live order status: its own routes, errors and page, and Herald
 * mounted at /rt. Run it with `bun examples/orders/app.ts` (PORT=0 picks a free port).
 */
import { Elysia } from 'elysia'
import { herald, sse } from 'herald'

interface Order {
  id: string
  item: string
  status: 'placed' | 'shipped'
}

const orders = new Map<string, Order>([
  ['1', { id: '1', item: 'Blue teapot', status: 'placed' }],
  ['2', { id: '2', item: 'Six mugs', status: 'placed' }],
  ['3', { id: '3', item: 'Tea cosy', status: 'placed' }],
  ['4', { id: '4', item: 'Kettle', status: 'placed' }],
])

/** This app's own error: a status and a message, answered as `{ "message": … }`. */
class OrderError extends Error {
  constructor(
    readonly status: 404 | 409,
    message: string,
  ) {
    super(message)
  }
}

function findOrder(id: string): Order {
  const order = orders.get(id)
  if (!order) throw new OrderError(404, `no order ${id}`)
  return order
}

const app = new Elysia()
  .error({ OrderError })
  .onError(({ code, error, set }) => {
    if (code !== 'OrderError') return
    set.status = error.status
    return { message: error.message }
  })
  // Herald's routes (/rt/events, /rt/ws, /rt/topics/…, /rt/healthz, …), and `herald` in every handler.
  .use(herald({ prefix: '/rt' }))
  .get('/', () => Bun.file(`${import.meta.dir}/page.html`))
  .get('/orders', () => [...orders.values()])
  .get('/orders/:id', ({ params }) => findOrder(params.id))
  .post('/orders/:id/ship', async ({ herald, params }) => {
    const order = findOrder(params.id)
    if (order.status === 'shipped') throw new OrderError(409, `order ${order.id} has already shipped`)
    order.status = 'shipped'
    await herald.publish(`orders/${order.id}`, order, { event: 'status' })
    return order
  })
  // The order as it is, then every change. A reconnecting EventSource sends Last-Event-ID and
  // gets the changes it missed, once each, instead.
  .get('/orders/:id/live', async function* ({ herald, params, request }) {
    const order = findOrder(params.id)
    const resumeFrom = request.headers.get('last-event-id')
    // Subscribing from the head the snapshot was taken at lets no change slip in between.
    const head = herald.head
    const changes = herald.subscribe(`orders/${order.id}`, { request, lastEventId: resumeFrom ?? head })
    if (!resumeFrom) yield sse({ event: 'status', id: head, data: order })
    for await (const change of changes) {
      // Herald no longer holds what this client missed (say, it restarted): send the order afresh.
      yield change.type === 'reset' ? sse({ event: 'status', id: change.head, data: order }) : change
    }
  })
  .listen({ port: Number(process.env.PORT ?? 3000), hostname: process.env.HOST ?? '127.0.0.1' })

console.log(`Orders example listening on ${app.server?.url}`)

// Stop cleanly: Herald ends its streams (clients reconnect and resume), then the process exits.
process.on('SIGTERM', async () => {
  await app.stop()
  process.exit(0)
})

/**
 * The baseline: the least code plain Bun needs for the same job. WebSocket clients join one native
 * topic and each event is one `server.publish`; SSE clients are one ReadableStream each, and a
 * publish encodes the batch once and enqueues the same bytes to every stream. It speaks the same
 * wire format as Herald (`subscribed` ack, `{"type":"event",…}` frames, `id:`/`data:` lines) and
 * takes the same POST /publish body, so the load client cannot tell the two apart.
 */
import { runControl } from './control'

const TOPIC = 'bench'
const utf8 = new TextEncoder()
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }
// The first chunk makes Bun send the headers, so a client that has them is subscribed.
const SSE_HELLO = utf8.encode('retry: 3000\n\n')
const SUBSCRIBED = JSON.stringify({ type: 'subscribed', topics: [TOPIC] })

const sseStreams = new Set<ReadableStreamDefaultController<Uint8Array>>()
let sequence = 0

function openSse(request: Request, server: Bun.Server<undefined>): Response {
  let self: ReadableStreamDefaultController<Uint8Array> | undefined
  const drop = () => {
    if (self) sseStreams.delete(self)
  }
  request.signal.addEventListener('abort', drop, { once: true })
  server.timeout(request, 0) // a quiet stream must not hit Bun's idle timeout
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      self = controller
      sseStreams.add(controller)
      controller.enqueue(SSE_HELLO)
    },
    cancel: drop,
  })
  return new Response(stream, { headers: SSE_HEADERS })
}

async function publish(request: Request, server: Bun.Server<undefined>): Promise<Response> {
  const items = (await request.json()) as { topic: string; data: string }[]
  let sse = ''
  for (const item of items) {
    const id = String(++sequence)
    server.publish(TOPIC, `{"type":"event","topic":${JSON.stringify(item.topic)},"id":"${id}","data":${JSON.stringify(item.data)}}`)
    if (sseStreams.size > 0) sse += `id: ${id}\ndata: ${item.data}\n\n`
  }
  if (sse) {
    const bytes = utf8.encode(sse)
    for (const controller of sseStreams) controller.enqueue(bytes)
  }
  return Response.json({ published: items.length })
}

const server = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  fetch(request, server) {
    const path = new URL(request.url).pathname
    if (path === '/ws') return server.upgrade(request, { data: undefined }) ? undefined : new Response('upgrade failed', { status: 400 })
    if (path === '/events') return openSse(request, server)
    if (path === '/publish' && request.method === 'POST') return publish(request, server)
    return new Response('not found', { status: 404 })
  },
  websocket: {
    open(ws) {
      ws.subscribe(TOPIC)
      ws.send(SUBSCRIBED)
    },
    message() {},
  },
})

runControl(server.port!, () => server.stop(true))

/**
 * Herald for `bun run soak`, in its own process (so its RSS is its own): small per-subscriber
 * buffers so slow clients really are cut, a history deep enough that cut clients resume without a
 * reset, and the WebSocket message rate limit out of the way of the soak's publishers.
 */
import { createServer } from '../../src/server'
import { runControl } from './control'

const { app } = createServer({
  port: 0,
  host: '127.0.0.1',
  queueSize: 256,
  wsBackpressureBytes: 512 * 1024,
  historySize: 5000,
  wsMessageRate: 0,
  keepAliveMs: 2000,
})
app.listen({ port: 0, hostname: '127.0.0.1' })
runControl(app.server?.port as number, () => app.stop())

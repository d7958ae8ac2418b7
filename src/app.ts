import { Elysia } from 'elysia'
import { docs } from './api/docs'
import { errorHandler } from './api/errors'
import { healthApi } from './api/health'
import { publishApi } from './api/publish'
import { MemoryBroker } from './broker/memory'
import { DEFAULTS, type HeraldOptions } from './config'
import { MemoryHistory } from './history/memory'
import { Hub } from './hub/hub'
import { exampleStreams } from './streams/examples'
import { sseTransport } from './transports/sse'
import { wsServerOptions, wsTransport } from './transports/ws'

/**
 * Builds the whole server without listening (tests and main.ts call `.listen`). The one place
 * where concrete parts (memory history, memory broker) are chosen and wired together.
 */
export function createApp(overrides: Partial<HeraldOptions> = {}) {
  const options: HeraldOptions = { ...DEFAULTS, ...overrides }
  const hub = new Hub({
    history: new MemoryHistory({ perTopic: options.historySize, maxTopics: options.historyTopics, startedAt: { ms: Date.now(), seq: 0 } }),
    broker: new MemoryBroker(),
    maxDataBytes: options.maxMessageBytes,
    queueLimit: options.queueSize,
    maxReplay: Math.max(options.historySize, 10_000),
    maxSelectors: options.maxSubscriptionTopics,
  })
  const wsOptions = { maxMessageBytes: options.maxMessageBytes, backpressureBytes: options.wsBackpressureBytes }
  const ws = wsTransport(hub, wsOptions)
  const app = new Elysia({ name: 'herald', websocket: wsServerOptions(wsOptions) })
    .use(errorHandler)
    .use(docs())
    .use(healthApi(hub, ws.decorator.wsConnections))
    .use(publishApi(hub, options))
    .use(sseTransport(hub, options))
    .use(ws)
    .use(exampleStreams())
    .onStop(() => hub.close())
  return { app, hub, options }
}

export type HeraldApp = ReturnType<typeof createApp>['app']

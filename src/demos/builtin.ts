import { Elysia } from 'elysia'
import { errorBody } from '../api/errors'
import { SSE_HEADERS } from '../transports/sse'
import { CLOCK_INTERVAL_MS, clock } from './clock'
import { HEARTBEAT_INTERVAL, heartbeat } from './heartbeat'
import { LAUNCH_STEP_MS, launch, launchIsOver } from './launch'
import { METRICS_INTERVAL_MS, metrics } from './metrics'
import { sequenceResume } from './resume'
import { type StreamGauge, streamGauge } from './sleep'
import type { StreamContext } from './stream'

export interface BuiltInStreamOptions {
  /** The `retry:` hint every stream opens with, in milliseconds. */
  retryMs: number
  /** Counts live streams and timers (tests pass their own to prove a disconnect leaves none). */
  gauge?: StreamGauge
  /** Milliseconds between clock events (tests shorten it); default 1000. */
  clockMs?: number
  /** Milliseconds between metrics events; default 1000. */
  metricsMs?: number
  /** Milliseconds between launch steps; default 150. */
  launchStepMs?: number
}

const LastEventIdDocs = [
  { name: 'Last-Event-ID', in: 'header' as const, schema: { type: 'integer' as const, minimum: 0 }, description: 'Resume after this sequence number (EventSource sends it when it reconnects)' },
  { name: 'lastEventId', in: 'query' as const, schema: { type: 'integer' as const, minimum: 0 }, description: 'The same, for a first connect (EventSource cannot set headers)' },
]

/**
 * The demo streams, each an `async function*` (see clock.ts and friends):
 * `GET /streams/heartbeat?interval=ms`, `/streams/clock`, `/streams/metrics`, `/streams/launch`.
 */
export function builtInStreams(options: BuiltInStreamOptions) {
  const gauge = options.gauge ?? streamGauge()
  const open = ({ request, server, set }: { request: Request; server: { timeout(request: Request, seconds: number): void } | null; set: { headers: Record<string, unknown> } }): StreamContext => {
    // Bun would cut a quiet stream after its idle timeout (a heartbeat may be a minute apart).
    server?.timeout(request, 0)
    Object.assign(set.headers, SSE_HEADERS)
    return { signal: request.signal, gauge, retryMs: options.retryMs }
  }
  const stream = { 200: { description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' as const } } } } }
  return new Elysia({ name: 'herald-builtin-streams' })
    .get(
      '/streams/heartbeat',
      (context) => {
        const interval = heartbeatInterval(context.query.interval)
        if (typeof interval !== 'number') {
          context.set.status = 400
          return interval
        }
        return heartbeat(open(context), interval)
      },
      {
        detail: {
          tags: ['Streams'],
          summary: 'Heartbeat: "Hello!" at once, then every interval',
          parameters: [
            {
              name: 'interval',
              in: 'query' as const,
              schema: { type: 'integer' as const, minimum: HEARTBEAT_INTERVAL.min, maximum: HEARTBEAT_INTERVAL.max, default: HEARTBEAT_INTERVAL.default },
              description: 'Milliseconds between messages; out of bounds → 400 invalid_interval',
            },
          ],
          responses: stream,
        },
      },
    )
    .get('/streams/clock', (context) => clock(open(context), options.clockMs ?? CLOCK_INTERVAL_MS), {
      detail: { tags: ['Streams'], summary: 'Clock: 0, 1, 2, … once per second', responses: stream },
    })
    .get(
      '/streams/metrics',
      (context) => {
        const resume = sequenceResume(context.request) // before open(): a bad id is a 400, not a stream
        return metrics(open(context), options.metricsMs ?? METRICS_INTERVAL_MS, resume)
      },
      {
        detail: {
          tags: ['Streams'],
          summary: 'Process metrics: a "metrics" event each second, {cpu, memory, at}, id = sequence number',
          description: 'Reconnecting with Last-Event-ID: n continues with id n + 1.',
          parameters: LastEventIdDocs,
          responses: stream,
        },
      },
    )
    .get(
      '/streams/launch',
      (context) => {
        const resume = sequenceResume(context.request)
        if (launchIsOver(resume)) return new Response(null, { status: 204 })
        return launch(open(context), options.launchStepMs ?? LAUNCH_STEP_MS, resume)
      },
      {
        detail: {
          tags: ['Streams'],
          summary: 'Launch: T-minus 3, 2, 1, then a "liftoff" event, then the stream ends',
          description: 'Ids 1 to 4. A client that saw liftoff (Last-Event-ID: 4) gets 204, which stops EventSource from reconnecting.',
          parameters: LastEventIdDocs,
          responses: { ...stream, 204: { description: 'The launch is over for this client' } },
        },
      },
    )
}

/** The heartbeat's `?interval=`: its default when absent, else a whole number within bounds, else the 400 body. */
function heartbeatInterval(text: string | undefined): number | ReturnType<typeof errorBody> {
  if (text === undefined || text === '') return HEARTBEAT_INTERVAL.default
  const value = Number(text)
  if (/^\d+$/.test(text) && value >= HEARTBEAT_INTERVAL.min && value <= HEARTBEAT_INTERVAL.max) return value
  return errorBody('invalid_interval', `interval is milliseconds between messages, a whole number from ${HEARTBEAT_INTERVAL.min} to ${HEARTBEAT_INTERVAL.max}; got ${JSON.stringify(text.slice(0, 40))}`)
}

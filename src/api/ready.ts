import { Elysia, t } from 'elysia'

/** What `/readyz` reports, from HeraldRuntime.readiness. */
export type ReadinessState = { ready: true } | { ready: false; reason: 'draining' | 'redis_unavailable'; message: string }

/**
 * `GET /readyz`: whether a load balancer should send this node traffic. 200 `{"status":"ready"}`;
 * 503 `{"status":"not_ready","reason","message"}` while shutting down (`draining`) or, with
 * `--redis`, while the node is not connected to Redis and in step with the cluster
 * (`redis_unavailable`: publishes would fail, resumes could not read history). `/healthz` stays
 * 200 meanwhile: the process is alive, and its subscribers stay connected.
 */
export function readyApi(readiness: () => ReadinessState) {
  return new Elysia({ name: 'herald-ready' }).get(
    '/readyz',
    ({ set }) => {
      const state = readiness()
      if (state.ready) return { status: 'ready' as const }
      set.status = 503
      set.headers['cache-control'] = 'no-store'
      return { status: 'not_ready' as const, reason: state.reason, message: state.message }
    },
    {
      detail: {
        tags: ['Operations'],
        summary: 'Readiness: 200 when this node can serve, 503 with a reason (draining, redis_unavailable) when a load balancer should send it nothing',
      },
      response: {
        200: t.Object({ status: t.Literal('ready') }),
        503: t.Object({ status: t.Literal('not_ready'), reason: t.Union([t.Literal('draining'), t.Literal('redis_unavailable')]), message: t.String() }),
      },
    },
  )
}

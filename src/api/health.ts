import { Elysia, t } from 'elysia'
import { VERSION } from '../config'
import type { HeraldStats } from './herald-api'

const startedAt = Date.now()

/** `GET /healthz` (liveness, cheap) and `GET /stats` (counters for dashboards and leak tests). */
export function healthApi(api: { stats(): HeraldStats }) {
  return new Elysia({ name: 'herald-health' })
    .get('/healthz', () => ({ status: 'ok' as const, version: VERSION, uptime: Math.round((Date.now() - startedAt) / 1000) }), {
      response: t.Object({ status: t.Literal('ok'), version: t.String(), uptime: t.Number({ description: 'seconds since start' }) }),
      detail: { tags: ['Operations'], summary: 'Liveness: 200 with the version and uptime' },
    })
    .get(
      '/stats',
      () => api.stats(),
      { detail: { tags: ['Operations'], summary: 'Counters: events published, live subscribers, history size, WebSocket connections, memory (this node); with --redis also `cluster`: nodes alive, summed counts, each node' } },
    )
}

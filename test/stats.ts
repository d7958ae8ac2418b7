import type { ClusterStats } from '../src/cluster/report'
import type { HubStats } from '../src/hub/hub'

/** The body of GET /stats, as tests read it. */
export type Stats = Omit<HubStats, 'slowConsumers' | 'gauges'> & {
  websockets: number
  memory: { rss: number; heapUsed: number }
  slowConsumers: { sse: number; ws: number }
  gauges: { sseAbortListeners: number; sseKeepAliveTimers: number; wsNativeTopics: number }
  /** With --redis only. */
  cluster?: ClusterStats
}

export async function fetchStats(base: string): Promise<Stats> {
  return (await (await fetch(`${base}/stats`)).json()) as Stats
}

/** Bun's client WebSocket: the DOM type lacks its pause/resume (stop reading) and terminate (no close frame). */
export type BunWebSocket = WebSocket & { pause(): boolean; resume(): boolean; terminate(): void }

import { type StreamChunk, type StreamContext, sseEvent, stream, ticks } from './stream'

/** Milliseconds between metrics events. */
export const METRICS_INTERVAL_MS = 1000

/** One `metrics` event's data, read from this process. */
export interface MetricsSample {
  cpu: {
    /** CPU time used since the previous sample (the first: since the process started), as a percentage of one core. */
    percent: number
    /** Total user CPU time since the process started, in microseconds (`process.cpuUsage().user`). */
    user: number
    /** Total system CPU time since the process started, in microseconds. */
    system: number
  }
  /** Bytes, from `process.memoryUsage()`. */
  memory: { rss: number; heapTotal: number; heapUsed: number }
  /** When the sample was taken, RFC 3339 in UTC (`2026-11-26T05:40:22.123Z`). */
  at: string
}

/** Returns a function that samples the process; each call's `cpu.percent` covers the time since the previous call. */
export function processSampler(): () => MetricsSample {
  let previous = { cpu: { user: 0, system: 0 }, at: performance.now() - process.uptime() * 1000 }
  return () => {
    const cpu = process.cpuUsage()
    const now = performance.now()
    const usedMicros = cpu.user - previous.cpu.user + (cpu.system - previous.cpu.system)
    const elapsedMicros = Math.max(1, (now - previous.at) * 1000)
    previous = { cpu, at: now }
    const memory = process.memoryUsage()
    return {
      cpu: { percent: Math.round((usedMicros / elapsedMicros) * 1000) / 10, user: cpu.user, system: cpu.system },
      memory: { rss: memory.rss, heapTotal: memory.heapTotal, heapUsed: memory.heapUsed },
      at: new Date().toISOString(),
    }
  }
}

/**
 * A named `metrics` event every `intervalMs` (the first at once) whose id is its sequence number:
 * 0, 1, 2, … or, for a client resuming after id `n`, n + 1, n + 2, …
 */
export function metrics(context: StreamContext, intervalMs: number = METRICS_INTERVAL_MS, lastEventId?: number): AsyncGenerator<StreamChunk> {
  return stream(context, samples(context, intervalMs, lastEventId === undefined ? 0 : lastEventId + 1))
}

async function* samples(context: StreamContext, intervalMs: number, first: number): AsyncGenerator<StreamChunk> {
  const sample = processSampler()
  for await (const id of ticks(context, intervalMs, first)) yield sseEvent({ id, event: 'metrics', data: JSON.stringify(sample()) })
}

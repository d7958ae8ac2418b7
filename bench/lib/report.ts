/**
 * Turns phase results into the printed tables. Each phase runs once per round; a phase's number is
 * the median over rounds (latency percentiles over the pooled samples, lost events summed), since a
 * two-process benchmark on a shared machine is noisy.
 */
import type { PhaseResult, ServerKind, Transport } from './phase'

export interface Summary {
  server: ServerKind
  transport: Transport
  deliveriesPerSec: number
  minDeliveriesPerSec: number
  maxDeliveriesPerSec: number
  p50: number
  p99: number
  lost: number
  expected: number
  rssPerConnection: number
  /** Deliveries per second of server CPU time: throughput with the client's share taken out. */
  perServerCpuSecond: number
  serverCpuMs: number
  clientCpuPercent: number
  publishMs: number
  deliveryMs: number
  complete: number
  failed: number
  failures: string[]
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
}

export function summarize(rounds: readonly PhaseResult[]): Summary {
  const first = rounds[0] as PhaseResult
  const latencies = Float64Array.from(rounds.flatMap((r) => r.latenciesMs)).sort()
  const dps = rounds.map((r) => r.deliveriesPerSec)
  return {
    server: first.server,
    transport: first.transport,
    deliveriesPerSec: median(dps),
    minDeliveriesPerSec: Math.min(...dps),
    maxDeliveriesPerSec: Math.max(...dps),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    lost: rounds.reduce((sum, r) => sum + r.expected - r.received, 0),
    expected: rounds.reduce((sum, r) => sum + r.expected, 0),
    rssPerConnection: median(rounds.map((r) => r.rssPerConnection)),
    perServerCpuSecond: median(rounds.map((r) => (r.serverCpuMs > 0 ? r.received / (r.serverCpuMs / 1000) : Number.NaN))),
    serverCpuMs: median(rounds.map((r) => r.serverCpuMs)),
    clientCpuPercent: median(rounds.map((r) => (100 * r.clientCpuMs) / r.windowMs)),
    publishMs: median(rounds.map((r) => r.publishMs)),
    deliveryMs: median(rounds.map((r) => r.deliveryMs)),
    complete: Math.min(...rounds.map((r) => r.complete)),
    failed: rounds.reduce((sum, r) => sum + r.failed, 0),
    failures: rounds.flatMap((r) => r.failures).slice(0, 5),
  }
}

function number(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

function bytes(value: number): string {
  return Math.abs(value) >= 1024 ? `${number(value / 1024, 1)} KiB` : `${number(value)} B`
}

const SERVER_LABELS: Record<ServerKind, string> = { herald: 'Herald', 'herald-auth': 'Herald+auth', raw: 'raw' }

export function label(result: { server: ServerKind; transport: Transport }): string {
  return `${SERVER_LABELS[result.server]} ${result.transport.toUpperCase()}`
}

export function roundLine(round: number, result: PhaseResult): string {
  const p50 = percentile(Float64Array.from(result.latenciesMs).sort(), 0.5)
  return `  round ${round} ${label(result).padEnd(15)} ${number(result.deliveriesPerSec).padStart(10)} deliveries/s  p50 ${number(p50, 1)} ms  ${number(result.received)}/${number(result.expected)} events in ${number(result.deliveryMs)} ms`
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] as string).length)))
  return [header, ...rows].map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ')).join('\n')
}

export function phaseTable(summaries: readonly Summary[]): string {
  return table(
    ['phase', 'deliveries/s (median)', 'min–max', 'p50 ms', 'p99 ms', 'lost', 'RSS/idle conn', 'per server CPU-s', 'server CPU', 'client CPU'],
    summaries.map((s) => [
      label(s),
      number(s.deliveriesPerSec),
      `${number(s.minDeliveriesPerSec / 1e6, 2)}–${number(s.maxDeliveriesPerSec / 1e6, 2)} M`,
      number(s.p50, 1),
      number(s.p99, 1),
      number(s.lost),
      bytes(s.rssPerConnection),
      number(s.perServerCpuSecond),
      `${number(s.serverCpuMs)} ms`,
      `${number(s.clientCpuPercent)} %`,
    ]),
  )
}

/** One phase vs a baseline, metric by metric; the ratio is phase / baseline (Herald / raw, or auth on / off). */
export function comparison(herald: Summary, baseline: Summary): string {
  const [name, base] = [SERVER_LABELS[herald.server], SERVER_LABELS[baseline.server]]
  const rows: [string, (s: Summary) => number, (v: number) => string][] = [
    ['deliveries/s', (s) => s.deliveriesPerSec, (v) => number(v)],
    ['deliveries/server CPU-s', (s) => s.perServerCpuSecond, (v) => number(v)],
    ['latency p50 ms', (s) => s.p50, (v) => number(v, 1)],
    ['latency p99 ms', (s) => s.p99, (v) => number(v, 1)],
    ['lost events', (s) => s.lost, (v) => number(v)],
    ['RSS per idle conn', (s) => s.rssPerConnection, bytes],
  ]
  const body = rows.map(([name, metric, format]) => {
    const [h, b] = [metric(herald), metric(baseline)]
    const ratio = b === 0 ? (h === 0 ? '—' : 'n/a') : `${number(h / b, 2)}×`
    return [`  ${name}`, format(h), format(b), ratio]
  })
  return `${label(herald)} vs ${label(baseline)}\n${table(['  metric', name, base, `${name}/${base}`], body)}`
}

/**
 * The target is on deliveries/s; the same ratio per server CPU-second is printed beside it because
 * it hardly moves when other processes compete for the cores, while wall-clock throughput does.
 */
export function target(name: string, herald: Summary, baseline: Summary, minimum: number): string {
  const ratio = herald.deliveriesPerSec / baseline.deliveriesPerSec
  const perCpu = herald.perServerCpuSecond / baseline.perServerCpuSecond
  return `  ${name}: ${number(ratio, 2)}× (target ≥ ${minimum}×) → ${ratio >= minimum ? 'MET' : 'NOT MET'}   [per server CPU-s: ${number(perCpu, 2)}×]`
}

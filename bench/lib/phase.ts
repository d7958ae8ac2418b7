/**
 * One measured phase: a fresh server process (so RSS starts from the same place and no phase
 * inherits another's garbage), N subscribers of one transport, an unmeasured warm-up (so JIT
 * compilation in server and client is not timed), then M messages at full speed.
 *
 * `herald-auth` is Herald with a key (`jwtSecret`): every subscriber connects with a token of its
 * own (sub `bench-<i>`, subscribe `bench` and `users/{sub}/**`, in the Authorization header) and the
 * publisher sends a publish token with every POST, so auth costs what it costs per connection and
 * per publish request. Tokens are minted by signToken before the server starts (not timed).
 */
import { randomBytes } from 'node:crypto'
import { signToken } from '../../src/auth/sign'
import { ServerProcess } from './child'
import { publishAll } from './publish'
import { SseSubscriber } from './sse'
import { connectAll, type Subscriber } from './subscriber'
import { Tally } from './tally'
import { WsSubscriber } from './ws'

export type ServerKind = 'herald' | 'herald-auth' | 'raw'
export type Transport = 'ws' | 'sse'

export interface BenchConfig {
  subscribers: number
  messages: number
  warmup: number
  batch: number
  window: number
  size: number
  rounds: number
  /** Every n-th subscriber samples latency. */
  sampleEvery: number
  timeoutMs: number
  /** Give up this long after the last delivery once publishing is done (lost events never come). */
  stallMs: number
  /** When set, every server writes a markdown CPU profile here on exit (bun --cpu-prof-md). */
  profileDir: string | undefined
}

export interface PhaseResult {
  server: ServerKind
  transport: Transport
  expected: number
  received: number
  /** First publish → last delivery. */
  deliveryMs: number
  publishMs: number
  deliveriesPerSec: number
  latenciesMs: number[]
  rssPerConnection: number
  serverCpuMs: number
  clientCpuMs: number
  /** Wall time over which the CPU times were taken (first publish → end of the wait). */
  windowMs: number
  complete: number
  failed: number
  failures: string[]
}

const SCRIPTS: Record<ServerKind, string> = {
  herald: new URL('../servers/herald.ts', import.meta.url).pathname,
  'herald-auth': new URL('../servers/herald.ts', import.meta.url).pathname,
  raw: new URL('../servers/raw.ts', import.meta.url).pathname,
}

async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10)
  }
}

function cpuMs(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

/** The key and tokens of an auth-on phase. */
interface PhaseAuth {
  /** Options for the server (merged into BENCH_HERALD_OPTIONS). */
  env: Record<string, string>
  publisher: string
  subscriber(index: number): string
}

/** A fresh secret per phase, and the tokens signed with it; undefined for the phases without auth. */
function phaseAuth(server: ServerKind, subscribers: number): PhaseAuth | undefined {
  if (server !== 'herald-auth') return undefined
  const secret = randomBytes(32).toString('base64url')
  const options = { ...(JSON.parse(process.env.BENCH_HERALD_OPTIONS ?? '{}') as Record<string, unknown>), jwtSecret: secret }
  const ttlMs = 3_600_000
  const tokens = Array.from({ length: subscribers }, (_, i) => signToken({ secret, sub: `bench-${i}`, subscribe: ['bench', 'users/{sub}/**'], ttlMs }))
  return {
    env: { BENCH_HERALD_OPTIONS: JSON.stringify(options) },
    publisher: signToken({ secret, sub: 'bench-publisher', publish: ['bench'], ttlMs }),
    subscriber: (index) => tokens[index] as string,
  }
}

/** Publishes `messages` and waits until every subscriber has them, the deadline, or a stall. */
async function deliver(child: ServerProcess, tally: Tally, subscribers: readonly Subscriber[], messages: number, config: BenchConfig, token: string | undefined) {
  tally.restart(messages)
  for (const subscriber of subscribers) subscriber.restart()
  const startedAt = performance.now()
  await publishAll({ port: child.port, messages, batch: config.batch, window: config.window, size: config.size, token })
  const publishedAt = performance.now()
  const deadline = startedAt + config.timeoutMs
  while (tally.complete + tally.failed < subscribers.length) {
    const now = performance.now()
    if (now > deadline || now - Math.max(publishedAt, tally.lastDeliveryAt) > config.stallMs) break
    await Bun.sleep(5)
  }
  return { startedAt, publishMs: publishedAt - startedAt }
}

function profileFlags(dir: string | undefined, name: string): string[] {
  return dir ? ['--cpu-prof-md', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.md`] : []
}

export async function runPhase(server: ServerKind, transport: Transport, config: BenchConfig, round: number): Promise<PhaseResult> {
  const flags = profileFlags(config.profileDir, `${server}-${transport}-round${round}`)
  const auth = phaseAuth(server, config.subscribers)
  const child = await ServerProcess.start(`${server} server`, SCRIPTS[server], flags, auth?.env)
  const subscribers: Subscriber[] = []
  try {
    await Bun.sleep(200) // let start-up allocation settle before the baseline
    const rssBefore = await child.rssAfterGc()

    const tally = new Tally(config.messages)
    for (let i = 0; i < config.subscribers; i++) {
      const sampled = i % config.sampleEvery === 0
      const token = auth?.subscriber(i)
      subscribers.push(transport === 'ws' ? new WsSubscriber(tally, sampled, token) : new SseSubscriber(tally, sampled, token))
    }
    await connectAll(subscribers, child.port)
    await until(() => tally.ready + tally.failed >= config.subscribers, 30_000, `${config.subscribers} ${transport} subscriptions`)
    if (tally.failed > 0) throw new Error(`${tally.failed} subscribers failed: ${tally.failures.join('; ')}`)
    await Bun.sleep(300)
    const rssIdle = await child.rssAfterGc()

    if (config.warmup > 0) {
      await deliver(child, tally, subscribers, config.warmup, config, auth?.publisher)
      if (tally.complete < config.subscribers) throw new Error(`warm-up incomplete: ${tally.received} of ${config.subscribers * config.warmup} events`)
    }

    const serverCpuBefore = await child.cpuMs()
    const clientCpuBefore = cpuMs()
    const { startedAt, publishMs } = await deliver(child, tally, subscribers, config.messages, config, auth?.publisher)
    const clientCpuMs = cpuMs() - clientCpuBefore
    const windowMs = performance.now() - startedAt
    const serverCpuMs = (await child.cpuMs()) - serverCpuBefore
    const deliveryMs = tally.lastDeliveryAt - startedAt

    return {
      server,
      transport,
      expected: config.subscribers * config.messages,
      received: tally.received,
      deliveryMs,
      publishMs,
      deliveriesPerSec: deliveryMs > 0 ? tally.received / (deliveryMs / 1000) : 0,
      latenciesMs: [...tally.latenciesMs],
      rssPerConnection: (rssIdle - rssBefore) / config.subscribers,
      serverCpuMs,
      clientCpuMs,
      windowMs,
      complete: tally.complete,
      failed: tally.failed,
      failures: tally.failures,
    }
  } finally {
    for (const subscriber of subscribers) subscriber.close()
    await child.stop()
  }
}

/** Herald processes on one Redis, as a cluster test starts them. */
import { join } from 'node:path'
import { type RunningCli, startCli } from '../cli'
import { SseClient } from '../helpers'
import { cleanUp, REDIS_URL, uniquePrefix } from './redis'

/** `bun src/main.ts`, run from the repository. */
export const HERALD = { argv: [process.execPath, join(import.meta.dir, '..', '..', 'src', 'main.ts')], cwd: join(import.meta.dir, '..', '..') }

/** Several nodes of one cluster (one prefix); `stop` kills them and deletes the prefix's keys. */
export interface TestCluster {
  prefix: string
  nodes: RunningCli[]
  stop(): Promise<void>
}

/** Starts `count` nodes on the test Redis under a fresh prefix, each with `args` (e.g. a short --node-ttl). */
export async function startCluster(count: number, args: string[] = [], what = 'nodes'): Promise<TestCluster> {
  const prefix = uniquePrefix(what)
  const nodes: RunningCli[] = []
  const stop = async () => {
    for (const node of nodes) node.child.kill('SIGKILL')
    await Promise.all(nodes.map((node) => node.child.exited))
    await cleanUp(prefix)
  }
  try {
    for (let i = 0; i < count; i++) nodes.push(await startCli(HERALD, ['--redis', REDIS_URL, '--redis-prefix', prefix, ...args]))
  } catch (error) {
    await stop()
    throw error
  }
  return { prefix, nodes, stop }
}

/**
 * True when an event published on node `from` reaches an SSE subscriber of node `to` within `ms`:
 * the cluster has a broker that carries events between nodes (the Redis broker). A real check of
 * the feature, for the tests that need it (`test.skipIf(!crossNode)`).
 */
export async function eventsCrossNodes(from: string, to: string, ms = 3000): Promise<boolean> {
  const topic = `probe/${crypto.randomUUID()}`
  const sse = await SseClient.open(`${to}/events?topic=${topic}`)
  try {
    const published = await fetch(`${from}/topics/${topic}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'probe' })
    if (published.status !== 200) return false
    await sse.waitForMessages(1, ms)
    return true
  } catch {
    return false
  } finally {
    sse.close()
  }
}

/** A TCP port nothing listens on now. */
export function freePort(): number {
  const server = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = server.port
  server.stop(true)
  return port
}

import type { ClusterMembership } from '../cluster/membership'
import { HubError } from '../hub/errors'
import type { SharedSecret } from './demo-tokens'

/** The cluster's demo secret: the one in Redis, or ARGV[1] stored as it when there is none. KEYS: the secret's key. */
const SECRET = `
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`

/**
 * The demo secret a cluster's nodes share (`<prefix>:demo:secret`): the first node to need it
 * stores a random one, every other node reads it, so a chat token minted by one node verifies on
 * all. Loaded on first use (`attach` comes after the server is built); each heartbeat stores it again if
 * Redis lost it (restarted empty), so nodes started later agree with the ones already running.
 * Whoever can read the cluster's Redis can mint demo tokens with it, as they could read and write
 * every event there.
 */
export class RedisDemoSecret implements SharedSecret {
  private cluster: ClusterMembership | undefined
  private loading: Promise<string> | undefined
  current: string | undefined

  /** Uses `cluster`'s Redis from now on. */
  attach(cluster: ClusterMembership): void {
    this.cluster = cluster
    cluster.onBeat(async () => {
      if (this.current !== undefined) await this.store(cluster, this.current)
    })
  }

  secret(): Promise<string> {
    if (this.current !== undefined) return Promise.resolve(this.current)
    this.loading ??= this.load().finally(() => {
      this.loading = undefined
    })
    return this.loading
  }

  private async load(): Promise<string> {
    const cluster = this.cluster
    if (!cluster) throw new HubError('store_unavailable', 'the cluster is not running yet; try again shortly')
    const generated = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
    this.current = await this.store(cluster, generated)
    return this.current
  }

  private async store(cluster: ClusterMembership, secret: string): Promise<string> {
    return String(await cluster.link.eval(SECRET, [cluster.keys.key('demo', 'secret')], [secret]))
  }
}

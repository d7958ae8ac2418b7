/**
 * The names of the Redis keys the cluster's membership and the demos use, all under `--redis-prefix`
 * so several clusters can share one Redis (the broker and history keep their own names under the
 * same prefix). Every name is `<prefix>:<part>:…`; parts the caller passes (rooms, node ids) are
 * already one safe segment (checked names, generated ids).
 */
export class ClusterKeys {
  constructor(readonly prefix: string) {}

  /** `<prefix>:<parts joined by ':'>`. */
  key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':')
  }

  /** Sorted set: node id → when its membership expires (Redis time, ms). */
  get nodes(): string {
    return this.key('nodes')
  }

  /** Hash: node id → its last report (JSON: address, start time, counters). */
  get reports(): string {
    return this.key('nodes', 'reports')
  }
}

/**
 * Redis commands with the broker contract's faults injected in front of every APPEND (a publish's
 * write), for the Redis broker: a fault that throws or rejects fails the write before it reaches
 * Redis; one that waits makes it slow. Writes stay first in, first out, as on one connection.
 */
import type { RedisCommands } from '../../src/redis/link'
import { APPEND, type LuaScript } from '../../src/redis/scripts'
import type { BrokerFaults } from './contract'

const noop = () => {}

export class FaultyCommands implements RedisCommands {
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly inner: RedisCommands,
    private readonly faults: BrokerFaults,
  ) {}

  send(command: string, args: string[], timeoutMs?: number): Promise<unknown> {
    return this.inner.send(command, args, timeoutMs)
  }

  run(script: LuaScript, args: string[], timeoutMs?: number): Promise<unknown> {
    if (script !== APPEND) return this.inner.run(script, args, timeoutMs)
    const ready = this.queue.then(() => this.faults.before?.([]))
    // Registered first: this write is sent before the next one's fault even starts.
    const answer = ready.then(() => this.inner.run(script, args, timeoutMs))
    this.queue = ready.then(noop, noop)
    return answer
  }
}

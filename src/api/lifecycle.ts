import { HubError } from '../hub/errors'

/**
 * Tracks publishes in flight and refuses new requests to Herald's routes once shutdown has begun,
 * so the shutdown can wait for every publish that was already being read before it ends the streams.
 */
export class Lifecycle {
  draining = false
  private inFlight = 0
  private readonly counted = new WeakSet<Request>()
  private idle: (() => void)[] = []

  /** Publishes (POST requests) currently being handled. */
  get publishesInFlight(): number {
    return this.inFlight
  }

  /** Resolves once no publish is in flight (at once if none is). */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => this.idle.push(resolve))
  }

  /** Throws 503 `shutting_down` once shutdown has begun. */
  refuseIfDraining(): void {
    if (this.draining) throw new HubError('shutting_down', 'Herald is shutting down; retry shortly')
  }

  /**
   * Counts a publish from the moment its body starts being read (refused once draining), so a
   * shutdown waits for it. Pair with `leave`, called when its response has been sent.
   */
  enter(request: Request): void {
    this.refuseIfDraining()
    if (this.counted.has(request)) return
    this.counted.add(request)
    this.inFlight++
  }

  /** Ends what `enter` counted for this request; a no-op for a request it did not count. */
  leave(request: Request): void {
    if (!this.counted.delete(request)) return
    if (--this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve()
  }
}

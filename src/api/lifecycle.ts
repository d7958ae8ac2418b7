import { Elysia } from 'elysia'
import { errorBody } from './errors'

/**
 * Tracks publishes in flight and refuses new requests once shutdown has begun, so the shutdown
 * can wait for every publish that was already accepted for reading before it ends the streams.
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

  plugin() {
    return new Elysia()
      .onRequest(({ request, set }) => {
        if (this.draining) {
          set.status = 503
          set.headers['retry-after'] = '5'
          set.headers.connection = 'close'
          return errorBody('shutting_down', 'Herald is shutting down; retry shortly')
        }
        if (request.method === 'POST') {
          this.counted.add(request)
          this.inFlight++
        }
      })
      .onAfterResponse({ as: 'global' }, ({ request }) => {
        if (!this.counted.delete(request)) return
        if (--this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve()
      })
  }
}

import type { Server } from 'bun'
import { HubError } from '../hub/errors'
import type { Logger } from '../log'
import type { HeraldCors } from './cors'
import { type ErrorBody, type ErrorContext, errorResponse } from './errors'
import type { Lifecycle } from './lifecycle'

type Context = Pick<ErrorContext, 'request' | 'set'>

/** A body that could not be read: kept, so the handler answers it (see `RouteGuard.parse`). */
class UnreadableBody {
  constructor(readonly error: unknown) {}
}

/**
 * Herald's routes answer their own errors. An app's error hook declared before `.use(herald())`
 * runs first for every route after it, Herald's included (Elysia 1.4.30), and may answer in its
 * own format; so Herald's handlers and body parsers catch what they throw and answer with
 * Herald's JSON error body, its status and CORS headers, whatever the host's hooks do.
 */
export class RouteGuard {
  constructor(
    private readonly log: Logger,
    private readonly cors: HeraldCors,
    readonly lifecycle: Lifecycle,
  ) {}

  /** Herald's JSON error answer for `error` (a HubError by its code; anything else a logged 500). */
  answer(error: unknown, context: Context): ErrorBody {
    this.cors.apply(context.request, context.set)
    // Not NOT_FOUND, so always a body (see errorResponse).
    return errorResponse({ code: error instanceof HubError ? 'HUB' : 'UNKNOWN', error, ...context }, this.log) as ErrorBody
  }

  /**
   * Runs a route handler's work: what it throws (or a body `parse` could not read) becomes
   * Herald's answer. Usage: `.post(path, (context) => guard.run(context, async () => …))`.
   */
  run<R>(context: Context & { body?: unknown }, work: () => R | Promise<R>): R | ErrorBody | Promise<R | ErrorBody> {
    let result: R | Promise<R>
    try {
      if (context.body instanceof UnreadableBody) throw context.body.error
      result = work()
    } catch (error) {
      this.lifecycle.leave(context.request)
      return this.answer(error, context)
    }
    // Synchronous work stays synchronous (a WebSocket upgrade takes no extra turn).
    if (!(result instanceof Promise)) {
      this.lifecycle.leave(context.request)
      return result
    }
    // A publish counted by `parse` ends here, once its events are kept and queued (or refused). Not
    // in an afterResponse hook: Elysia would keep every SSE stream's context alive to call it.
    return result.then(
      (value) => {
        this.lifecycle.leave(context.request)
        return value
      },
      (error: unknown) => {
        this.lifecycle.leave(context.request)
        return this.answer(error, context)
      },
    )
  }

  /**
   * Wraps a body reader for a publish route: counts the publish from its first byte (refused once
   * draining, so a shutdown waits for bodies still arriving) and hands a failure to the handler
   * instead of to the app's error hooks.
   */
  parse(read: (request: Request, server: Server<unknown> | null | undefined) => Promise<unknown>) {
    return async ({ request, server }: { request: Request; server?: Server<unknown> | null | undefined }): Promise<unknown> => {
      try {
        this.lifecycle.enter(request)
        return await read(request, server)
      } catch (error) {
        return new UnreadableBody(error)
      }
    }
  }
}

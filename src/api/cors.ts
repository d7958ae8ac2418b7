/**
 * CORS for Herald's own routes only. `@elysiajs/cors` installs a global `onRequest` hook and an
 * `OPTIONS /*` route (Elysia 1.4), which would change every route of an app Herald is mounted in;
 * this answers for Herald's paths and leaves the host's routes to the host.
 */

/** Request headers a cross-origin client may send to Herald. */
const ALLOWED_HEADERS = 'content-type, last-event-id, authorization'

type HeaderSet = { headers: Record<string, string | number> }

export class HeraldCors {
  private readonly any: boolean
  private readonly origins: ReadonlySet<string>

  /** `origins`: exact origins (`https://app.example`), or `*` for any; empty = same origin only (no CORS headers). */
  constructor(origins: readonly string[]) {
    this.any = origins.includes('*')
    this.origins = new Set(origins)
  }

  get enabled(): boolean {
    return this.any || this.origins.size > 0
  }

  /** The origin to echo back, or undefined when the request's origin is not allowed (or absent). */
  private allowed(request: Request): string | undefined {
    const origin = request.headers.get('origin')
    if (!origin) return undefined
    return this.any || this.origins.has(origin) ? origin : undefined
  }

  /** Adds `access-control-allow-origin` for an allowed origin (on every answer, errors included). */
  apply(request: Request, set: HeaderSet): void {
    if (!this.enabled) return
    set.headers.vary = 'Origin'
    const origin = this.allowed(request)
    if (origin) set.headers['access-control-allow-origin'] = origin
  }

  /** The answer to a preflight (`OPTIONS`) on one of Herald's paths, for the methods that path serves. */
  preflight(request: Request, methods: readonly string[]): Response {
    const headers: Record<string, string> = { allow: [...methods, 'OPTIONS'].join(', '), vary: 'Origin' }
    const origin = this.allowed(request)
    if (origin) {
      Object.assign(headers, {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': [...methods, 'OPTIONS'].join(', '),
        'access-control-allow-headers': ALLOWED_HEADERS,
        'access-control-max-age': '600',
      })
    }
    return new Response(null, { status: 204, headers })
  }
}

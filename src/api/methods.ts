/**
 * Which methods a path accepts, read from the app's own route table, so a request with the wrong
 * method gets `405` and an `Allow` header instead of a `404` that says the path does not exist, and
 * a new route needs no entry anywhere else.
 */

/** A route as Elysia lists it (`app.routes`): `GET /events`, `POST /topics/*`, `GET /feed/:id`. */
export interface RouteEntry {
  method: string
  path: string
}

interface CompiledRoute {
  method: string
  pattern: RegExp
}

/** `/topics/*` → `^/topics/.*$`; `:name` matches one segment. Elysia also routes a trailing `/`. */
function compile(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => (segment === '*' ? '.*' : segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/')
  return new RegExp(`^${source}/?$`)
}

/**
 * The methods each path accepts. The route table is read on first use, after every route is
 * registered. OPTIONS routes are left out: the CORS plugin registers `OPTIONS /*`, which would
 * match every path.
 */
export class RouteMethods {
  private compiled: CompiledRoute[] | undefined
  private routes: () => readonly RouteEntry[] = () => []

  /** Where the route table comes from (e.g. `() => app.routes`); set once the app is built. */
  from(routes: () => readonly RouteEntry[]): void {
    this.routes = routes
    this.compiled = undefined
  }

  /**
   * The methods `pathname` is served for, sorted (`GET` brings `HEAD`, which Bun answers with the
   * GET route's headers); empty when no route has the path at all (a real 404).
   */
  allowed(pathname: string): string[] {
    this.compiled ??= this.routes()
      .filter((route) => route.method !== 'OPTIONS' && route.method !== 'ALL')
      .map((route) => ({ method: route.method, pattern: compile(route.path) }))
    const methods = new Set<string>()
    for (const route of this.compiled) {
      if (!route.pattern.test(pathname)) continue
      methods.add(route.method)
      if (route.method === 'GET') methods.add('HEAD')
    }
    return [...methods].sort()
  }
}

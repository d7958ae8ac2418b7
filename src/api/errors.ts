import { Elysia } from 'elysia'
import { ERROR_STATUS, HubError, type HubErrorCode } from '../hub/errors'
import type { Logger } from '../log'
import type { RouteMethods } from './methods'

/** The HTTP status for each error code: the table in hub/errors.ts, the one place this mapping lives. */
export const STATUS_BY_CODE: Readonly<Record<HubErrorCode, number>> = ERROR_STATUS

/** Every error body: `{"error": {"code": "...", "message": "..."}}`; only codes from the one list (hub/errors.ts) compile. */
export function errorBody(code: HubErrorCode, message: string): { error: { code: HubErrorCode; message: string } } {
  return { error: { code, message } }
}

/** First line of an Elysia validation message, without the schema dump it carries. */
function validationSummary(error: unknown): string {
  const summary = (error as { all?: { summary?: string; path?: string; message?: string }[] }).all?.[0]
  if (summary) return `${summary.path ? `${summary.path.replace(/^\//, '')}: ` : ''}${summary.summary ?? summary.message ?? 'invalid value'}`
  return 'the request does not match the documented schema (see /swagger)'
}

/**
 * A request no route matched: `405` with `Allow` when the path exists for other methods (`204` with
 * `Allow` for OPTIONS, which the CORS plugin answers itself when CORS is on), else the JSON 404.
 */
function unrouted(request: Request, set: { status?: number | string; headers: Record<string, string | number> }, methods: RouteMethods | undefined) {
  const path = new URL(request.url).pathname
  const allow = methods?.allowed(path) ?? []
  if (allow.length === 0) {
    set.status = STATUS_BY_CODE.not_found
    return errorBody('not_found', 'no such route; the API is documented at /swagger')
  }
  if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: { allow: [...allow, 'OPTIONS'].join(', ') } })
  set.status = STATUS_BY_CODE.method_not_allowed
  set.headers.allow = allow.join(', ')
  const shown = path.length > 100 ? `${path.slice(0, 100)}…` : path
  return errorBody('method_not_allowed', `${request.method} is not allowed on ${shown}: use ${allow.join(' or ')} (the API is documented at /swagger)`)
}

/**
 * Turns every thrown error into the JSON error body with the right status. Global scope. `methods`
 * (the app's route table) turns a wrong method on a known path into `405` rather than `404`.
 */
export const errorHandler = (log: Logger, methods?: RouteMethods) =>
  new Elysia({ name: 'herald-errors' }).onError({ as: 'global' }, ({ code, error, set, request }) => {
  // Errors thrown while parsing a body reach us wrapped in Elysia's ParseError.
  const hubError = error instanceof HubError ? error : (error as { cause?: unknown }).cause
  if (hubError instanceof HubError) {
    set.status = STATUS_BY_CODE[hubError.code]
    // A client's mistake, not the server's: visible with --log-level debug.
    log.debug('request refused', { method: request.method, path: new URL(request.url).pathname, status: set.status, code: hubError.code })
    return errorBody(hubError.code, hubError.message)
  }
  switch (code) {
    case 'NOT_FOUND':
      return unrouted(request, set, methods)
    case 'VALIDATION':
      set.status = STATUS_BY_CODE.invalid_request
      return errorBody('invalid_request', validationSummary(error))
    case 'PARSE':
      set.status = STATUS_BY_CODE.malformed_json
      return errorBody('malformed_json', 'the body could not be parsed')
    default:
      log.error('request failed', { method: request.method, url: request.url, error })
      set.status = STATUS_BY_CODE.internal_error
      return errorBody('internal_error', 'the server failed to handle the request; it has been logged')
  }
})

import { Elysia } from 'elysia'
import { ERROR_STATUS, HubError, type HubErrorCode } from '../hub/errors'
import type { Logger } from '../log'
import type { RouteMethods } from './methods'

/** The HTTP status for each error code: the table in hub/errors.ts, the one place this mapping lives. */
export const STATUS_BY_CODE: Readonly<Record<HubErrorCode, number>> = ERROR_STATUS

/** Every error body: `{"error": {"code": "...", "message": "..."}}`. */
export type ErrorBody = { error: { code: HubErrorCode; message: string } }

/** Every error body: `{"error": {"code": "...", "message": "..."}}`; only codes from the one list (hub/errors.ts) compile. */
export function errorBody(code: HubErrorCode, message: string): ErrorBody {
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
  // No route at all, or one for this very method that found nothing (a file a --static folder lacks).
  if (allow.length === 0 || allow.includes(request.method)) {
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
 * The `WWW-Authenticate` challenge a 401 carries (RFC 6750): `Bearer` when no token was sent,
 * `Bearer error="invalid_token"` when the one sent was bad or expired; undefined for other codes.
 */
export function bearerChallenge(code: HubErrorCode): string | undefined {
  if (code === 'missing_token') return 'Bearer'
  if (code === 'invalid_token' || code === 'token_expired') return 'Bearer error="invalid_token"'
  return undefined
}

/** What an error hook receives from Elysia, as far as `errorResponse` reads it. */
export interface ErrorContext {
  code: unknown
  error: unknown
  request: Request
  set: { status?: number | string; headers: Record<string, string | number> }
}

/**
 * The JSON error body (and status) for anything thrown while handling a request: hub errors by
 * their code, Elysia's validation and parse errors as 400, anything else as a logged 500. `methods`
 * (an app's route table) turns a request no route matched into `405` when the path exists for
 * other methods; without it such a request is not handled here (undefined: the app's own 404).
 */
export function errorResponse({ code, error, set, request }: ErrorContext, log: Logger, methods?: RouteMethods) {
  // Errors thrown while parsing a body reach us wrapped in Elysia's ParseError.
  const hubError = error instanceof HubError ? error : (error as { cause?: unknown }).cause
  if (hubError instanceof HubError) {
    set.status = STATUS_BY_CODE[hubError.code]
    if (hubError.code === 'shutting_down') {
      set.headers['retry-after'] = '5'
      set.headers.connection = 'close'
    }
    const challenge = bearerChallenge(hubError.code)
    if (challenge) set.headers['www-authenticate'] = challenge
    // A client's mistake, not the server's: visible with --log-level debug.
    log.debug('request refused', { method: request.method, path: new URL(request.url).pathname, status: set.status, code: hubError.code })
    return errorBody(hubError.code, hubError.message)
  }
  switch (code) {
    case 'NOT_FOUND':
      return methods ? unrouted(request, set, methods) : undefined
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
}

/**
 * The standalone server's error hook, for every route of the app (global scope): the JSON error
 * body with the right status, and `405` / JSON `404` for requests no route matched. The `herald()`
 * plugin does not install it: it answers errors of its own routes only (see plugin.ts).
 */
export const errorHandler = (log: Logger, methods?: RouteMethods) => new Elysia({ name: 'herald-errors' }).onError({ as: 'global' }, (context) => errorResponse(context, log, methods))

/**
 * Where a request's token is: the `Authorization: Bearer` header, a cookie (`herald_token` by
 * default, `--jwt-cookie`), or the `access_token` query parameter (EventSource cannot set headers).
 * The first one present wins, in that order; the others are then not read. A carrier that is present
 * but malformed refuses the request (`invalid_token`) rather than falling through to the next, so
 * what a client sent is never silently replaced by something else.
 */
import { HubError } from '../hub/errors'
import type { FoundToken } from './types'

/** The default name of the cookie a token may be carried in (`--jwt-cookie`). */
export const DEFAULT_TOKEN_COOKIE = 'herald_token'

/** The query parameter a token may be carried in. */
export const TOKEN_QUERY_PARAMETER = 'access_token'

/** RFC 6750's b64token: what a bearer token may be made of (a JWT is base64url parts and dots). */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

function malformed(message: string): HubError {
  return new HubError('invalid_token', message)
}

/**
 * The token a request carries, and where; undefined when it carries none. Throws `invalid_token`
 * for a malformed carrier: an `Authorization: Bearer` header without exactly one token (two
 * `Authorization` headers count as two), several cookies named `cookieName`, several
 * `access_token` parameters, or a value that is not a bearer token's characters. An
 * `Authorization` header with another scheme (Basic, say, from a proxy in front) is not Herald's
 * and is ignored; an empty cookie (a logout) or an empty `access_token=` counts as absent.
 */
export function findToken(request: Request, cookieName: string = DEFAULT_TOKEN_COOKIE): FoundToken | undefined {
  const header = request.headers.get('authorization')
  if (header !== null) {
    const token = bearerToken(header)
    if (token !== undefined) return { token, carrier: 'header' }
  }
  const cookie = request.headers.get('cookie')
  if (cookie !== null) {
    const token = cookieToken(cookie, cookieName)
    if (token !== undefined) return { token, carrier: 'cookie' }
  }
  const query = queryToken(request.url)
  if (query !== undefined) return { token: query, carrier: 'query' }
  return undefined
}

/** The token of an `Authorization` header value; undefined for another scheme. */
function bearerToken(header: string): string | undefined {
  // Headers.get joins repeated headers with ", ", so `Bearer a, Bearer b` is two tokens here.
  const parts = header.split(',')
  if (!parts.some((part) => /^\s*bearer(\s|$)/i.test(part))) return undefined
  if (parts.length > 1) throw malformed('the request must have one Authorization header, "Bearer <token>" with exactly one token')
  const rest = header.trim().slice('bearer'.length).trim()
  if (rest === '') throw malformed('the Authorization header says Bearer but carries no token')
  if (/\s/.test(rest)) throw malformed('the Authorization header must carry exactly one token ("Bearer <token>")')
  if (!B64TOKEN.test(rest)) throw malformed('the bearer token has characters a token cannot have')
  return rest
}

/** The value of the cookie named `name`; undefined when absent or empty. */
function cookieToken(header: string, name: string): string | undefined {
  const values: string[] = []
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=')
    if (equals < 0) continue
    if (pair.slice(0, equals).trim() !== name) continue
    let value = pair.slice(equals + 1).trim()
    // RFC 6265 allows a quoted cookie value.
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    values.push(value)
  }
  const present = values.filter((value) => value !== '')
  if (present.length === 0) return undefined
  // Another site on a parent domain (or a path) can add a cookie of the same name: refuse rather than guess which is the user's.
  if (values.length > 1) throw malformed(`the request has ${values.length} cookies named ${name}; clear the extra ones`)
  const token = present[0] as string
  if (!B64TOKEN.test(token)) throw malformed(`the ${name} cookie has characters a token cannot have`)
  return token
}

/** The `access_token` query parameter; undefined when absent or empty. */
function queryToken(url: string): string | undefined {
  const question = url.indexOf('?')
  if (question < 0) return undefined
  const values = new URLSearchParams(url.slice(question + 1).split('#')[0]).getAll(TOKEN_QUERY_PARAMETER)
  if (values.length === 0) return undefined
  if (values.length > 1) throw malformed(`the URL has ${values.length} ${TOKEN_QUERY_PARAMETER} parameters; give one`)
  const token = values[0] as string
  if (token === '') return undefined
  if (!B64TOKEN.test(token)) throw malformed(`the ${TOKEN_QUERY_PARAMETER} parameter has characters a token cannot have`)
  return token
}

/**
 * `url` (absolute, or a path with a query) with the value of every `access_token` parameter
 * replaced by `REDACTED`, for logs: tokens in URLs end up in access logs, browser history and
 * Referer headers, so Herald never logs one. Parameter names are compared decoded
 * (`access%5Ftoken` is `access_token` too, as URLSearchParams reads it); everything else is kept
 * byte for byte.
 */
export function redactAccessToken(url: string): string {
  const question = url.indexOf('?')
  if (question < 0) return url
  const hash = url.indexOf('#', question)
  const end = hash < 0 ? url.length : hash
  const pairs = url.slice(question + 1, end).split('&')
  let changed = false
  const redacted = pairs.map((pair) => {
    const equals = pair.indexOf('=')
    const rawName = equals < 0 ? pair : pair.slice(0, equals)
    if (decodedName(rawName) !== TOKEN_QUERY_PARAMETER) return pair
    changed = true
    return `${rawName}=REDACTED`
  })
  return changed ? `${url.slice(0, question + 1)}${redacted.join('&')}${url.slice(end)}` : url
}

function decodedName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '))
  } catch {
    return raw
  }
}

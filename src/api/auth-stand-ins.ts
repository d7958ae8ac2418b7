/**
 * STAND-INS for what src/auth/ provides (token carriers and the no-key Authenticator), written
 * against the contract in src/auth/types.ts so the edges could be built and tested first. When the
 * token module lands, `findToken` and `noKeyAuthenticator` are replaced by its own (same shapes);
 * nothing else imports this file but edge-auth.ts and runtime.ts.
 */
import type { AuthPrincipal, Authenticator, FoundToken } from '../auth/types'
import { HubError } from '../hub/errors'

/** The cookie a browser's token may come in (HttpOnly in the examples). */
export const TOKEN_COOKIE = 'herald_token'

/** The query parameter a token may come in (EventSource and WebSocket cannot set headers). */
export const TOKEN_QUERY = 'access_token'

/** The value of cookie `name` in a Cookie header, or undefined. */
function cookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue
    const value = part.slice(eq + 1).trim()
    try {
      return decodeURIComponent(value)
    } catch {
      return value
    }
  }
  return undefined
}

/**
 * STAND-IN: the token a request carries, by precedence `Authorization: Bearer …` > cookie
 * `herald_token` > `?access_token=`; undefined when none (an empty value counts as none).
 */
export function findToken(request: Request): FoundToken | undefined {
  const header = request.headers.get('authorization')
  const bearer = header ? /^Bearer[ \t]+(\S+)\s*$/i.exec(header)?.[1] : undefined
  if (bearer) return { token: bearer, carrier: 'header' }
  const fromCookie = cookie(request.headers.get('cookie'), TOKEN_COOKIE)
  if (fromCookie) return { token: fromCookie, carrier: 'cookie' }
  const query = request.url.includes(`${TOKEN_QUERY}=`) ? new URL(request.url).searchParams.get(TOKEN_QUERY) : null
  if (query) return { token: query, carrier: 'query' }
  return undefined
}

/**
 * The principal of every client while no key is configured: it may subscribe to anything and sees
 * no private event (nobody can show a token that entitles them to one); what it may publish is the
 * edge's decision (loopback only, unless --dev), so `mayPublish` says yes here.
 */
const OPEN_ANONYMOUS: AuthPrincipal = Object.freeze({
  subject: undefined,
  seesEverything: false,
  expiresAt: undefined,
  anonymous: true,
  mayPublish: () => true,
  maySubscribe: () => true,
  maySee: () => false,
})

/** STAND-IN: the Authenticator of a Herald with no key configured (`enabled` false). */
export function noKeyAuthenticator(): Authenticator {
  return {
    enabled: false,
    verify: () => Promise.reject(new HubError('invalid_token', 'this Herald has no key configured, so it verifies no token; configure --jwt-secret or --jwt-key')),
    anonymous: () => OPEN_ANONYMOUS,
  }
}

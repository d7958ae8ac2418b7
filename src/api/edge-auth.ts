/**
 * Who a request is, at Herald's edges (HTTP publish, SSE, WebSocket): the token it carries, turned
 * into a principal by the Authenticator, plus the rules that need the request itself and so cannot
 * live in the hub: the origin allow-list, and with no key configured, publishing from loopback only.
 * The hub then checks the principal; nothing here decides what a principal may publish or see.
 */
import type { Server } from 'bun'
import type { AuthPrincipal, Authenticator, FoundToken } from '../auth/types'
import { HubError } from '../hub/errors'
import type { Hub } from '../hub/hub'
import type { Principal } from '../hub/principal'
import type { Selector } from '../hub/topics'
import { findToken } from '../auth/carriers'

/** The address a request came from (an IP address), or null/undefined when unknown (unknown is never loopback). */
export type RemoteAddress = (request: Request, server: Server<unknown> | null | undefined) => string | null | undefined

/** Bun's view of the peer: the TCP connection's address. Behind a proxy on this machine every request is loopback. */
export const bunRemoteAddress: RemoteAddress = (request, server) => server?.requestIP(request)?.address

/** How an edge tells how to configure a key (no-key refusals and the start-up log say it). */
export const CONFIGURE_A_KEY = 'configure a key (--jwt-secret or --jwt-key) and publish with a token, or run with --dev for local play'

export interface EdgeAuthOptions {
  /** Verifies tokens; `enabled` false = no key configured. */
  auth: Authenticator
  /** `--dev`: with no key configured, anyone may publish, from anywhere, and the origin rule is off. No effect with a key. */
  dev: boolean
  /** Origins (`https://app.example`) allowed besides the request's own host; `*` allows any. */
  allowedOrigins: readonly string[]
  /** The peer's address (default: Bun's `server.requestIP`); tests and proxies put their own here. */
  remoteAddress?: RemoteAddress | undefined
  /** The cookie a token may come in (`--jwt-cookie`, default `herald_token`). */
  tokenCookie?: string | undefined
  /** Finds a request's token (default: Authorization Bearer > cookie > `?access_token=`, see auth/carriers.ts). */
  findToken?: ((request: Request) => FoundToken | undefined) | undefined
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped 127.x addresses. */
export function isLoopback(address: string | null | undefined): boolean {
  if (!address) return false
  return address === '::1' || address.startsWith('127.') || address.toLowerCase().startsWith('::ffff:127.')
}

/** The request's own host (`host:port`), as Bun read it from the Host header. */
function ownHost(request: Request): string {
  const host = request.headers.get('host')
  if (host) return host.toLowerCase()
  return new URL(request.url).host
}

/** The `host:port` of an Origin header value, or undefined for `null` and anything unparsable. */
function originHost(origin: string): string | undefined {
  try {
    const url = new URL(origin)
    return url.host === '' ? undefined : url.host.toLowerCase()
  } catch {
    return undefined
  }
}

/**
 * The edge's side of authentication, one per Herald. Every method either answers or throws a
 * HubError the route turns into its status (401 with `WWW-Authenticate`, 403).
 */
export class EdgeAuth {
  readonly auth: Authenticator
  private readonly dev: boolean
  private readonly anyOrigin: boolean
  private readonly origins: ReadonlySet<string>
  private readonly remoteAddress: RemoteAddress
  private readonly findToken: (request: Request) => FoundToken | undefined

  constructor(options: EdgeAuthOptions) {
    this.auth = options.auth
    this.dev = options.dev
    this.anyOrigin = options.allowedOrigins.includes('*')
    this.origins = new Set(options.allowedOrigins.map((origin) => origin.toLowerCase()))
    this.remoteAddress = options.remoteAddress ?? bunRemoteAddress
    const cookie = options.tokenCookie
    this.findToken = options.findToken ?? ((request) => findToken(request, cookie))
  }

  /** No key and `--dev`: anyone may publish, and origins are not checked. */
  get open(): boolean {
    return !this.auth.enabled && this.dev
  }

  /** True when a token a request carries is verified and used: with a key, or with a demo signer and no key (Authenticator.verifiesWithoutKey). */
  get acceptsTokens(): boolean {
    return this.auth.enabled || this.auth.verifiesWithoutKey === true
  }

  /** How the server runs, for the start-up log: what is open and how to configure a key. */
  get mode(): 'tokens' | 'dev' | 'loopback' {
    return this.auth.enabled ? 'tokens' : this.dev ? 'dev' : 'loopback'
  }

  /**
   * True when the request has no `Origin`, or its origin is the request's own host (any scheme: a
   * TLS-terminating proxy makes `https://` pages reach Herald as `http://`), or is allowed.
   */
  originAllowed(request: Request): boolean {
    const origin = request.headers.get('origin')
    if (origin === null) return true
    if (this.anyOrigin || this.origins.has(origin.toLowerCase())) return true
    return originHost(origin) === ownHost(request)
  }

  /** Throws `forbidden_origin` unless `originAllowed` (and unless the server is open). */
  checkOrigin(request: Request, what: string): void {
    if (this.open || this.originAllowed(request)) return
    const origin = (request.headers.get('origin') ?? '').slice(0, 100)
    throw new HubError('forbidden_origin', `${what} from the origin ${JSON.stringify(origin)} is refused: only this server's own origin and --allowed-origins may do that`)
  }

  /**
   * The principal of a subscriber (an SSE request, a WebSocket upgrade): its verified token, or
   * the anonymous principal when it carries none. A token from a cookie is subject to the origin
   * rule (a foreign page cannot ride a user's cookie); a header or query token is not (a foreign
   * page cannot read it). Throws `invalid_token` / `token_expired` for a bad token. With no key
   * configured, tokens are read only when the Authenticator `verifiesWithoutKey`.
   */
  subscriber(request: Request): AuthPrincipal | Promise<AuthPrincipal> {
    if (!this.acceptsTokens) return this.auth.anonymous()
    const found = this.findToken(request)
    if (!found) return this.auth.anonymous()
    if (found.carrier === 'cookie') this.checkOrigin(request, 'a request authenticated by cookie')
    return this.auth.verify(found.token)
  }

  /**
   * The principal of an HTTP publish, looked up before its body is read (so a client without a
   * right to publish cannot make the server read a body). With a key: a token is required
   * (`missing_token`). Without: `addressRefusal`'s rules, except that a request carrying a token
   * the Authenticator verifies without a key (a demo token) gets that token's principal.
   */
  publisher(request: Request, server: Server<unknown> | null | undefined): Principal | Promise<Principal> {
    const found = this.acceptsTokens ? this.findToken(request) : undefined
    if (!this.auth.enabled && !found) {
      const refusal = this.addressRefusal(request, server)
      if (refusal) throw refusal
      return this.auth.anonymous()
    }
    if (!found) throw new HubError('missing_token', 'publishing needs a token: send it as "Authorization: Bearer <token>"')
    if (found.carrier === 'cookie') this.checkOrigin(request, 'a publish authenticated by cookie')
    return this.auth.verify(found.token)
  }

  /**
   * With no key configured, why a client at this request's address may not publish at all: not
   * from loopback (`loopback_only`), or from loopback but a foreign page's origin
   * (`forbidden_origin`: a page the developer visits must not publish through their browser).
   * Undefined when it may, and always with a key (tokens decide) or in dev mode.
   */
  addressRefusal(request: Request, server: Server<unknown> | null | undefined): HubError | undefined {
    if (this.auth.enabled || this.dev) return undefined
    if (!isLoopback(this.remoteAddress(request, server))) {
      return new HubError('loopback_only', `this Herald has no key configured, so it accepts publishes only from this machine (loopback); to publish from elsewhere, ${CONFIGURE_A_KEY}`)
    }
    if (!this.originAllowed(request)) {
      const origin = (request.headers.get('origin') ?? '').slice(0, 100)
      return new HubError('forbidden_origin', `a publish from the page origin ${JSON.stringify(origin)} is refused: only this server's own origin and --allowed-origins may publish from a browser`)
    }
    return undefined
  }

  /** With a key configured, the refusal an anonymous principal gets for any publish (`missing_token`). */
  anonymousPublishRefusal(principal: AuthPrincipal): HubError | undefined {
    if (!this.auth.enabled || !principal.anonymous) return undefined
    return new HubError('missing_token', 'publishing needs a token: authenticate first')
  }

  /**
   * The hub's subscribe check, except that an anonymous principal refused while a key is
   * configured gets `missing_token` (401: a token may allow it) rather than `forbidden_topic`.
   */
  checkSubscribe(hub: Hub, selectors: readonly Selector[], principal: AuthPrincipal): void {
    try {
      hub.checkSubscribe(selectors, principal)
    } catch (error) {
      if (this.auth.enabled && principal.anonymous && error instanceof HubError && error.code === 'forbidden_topic') {
        throw new HubError('missing_token', `${error.message} without a token (only public topics are open to everyone): send one`)
      }
      throw error
    }
  }

  /** Verifies a token sent in a message (WebSocket `auth`). */
  verify(token: string): Promise<AuthPrincipal> {
    return this.auth.verify(token)
  }
}

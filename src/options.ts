import type { RemoteAddress } from './api/edge-auth'
import type { Authenticator } from './auth/types'
import { DEFAULTS, type HeraldOptions } from './config'
import type { Logger } from './log'

/** Each hub setting, optional; undefined = its default. */
export type OptionalSettings = { [K in keyof HubSettings]?: HubSettings[K] | undefined }

/** The options of the CLI that belong to the standalone server, not to the hub and its routes. */
export type ServerOnlyOption = 'port' | 'host' | 'logLevel' | 'logFormat' | 'feedDb' | 'staticDir' | 'demoTokens' | 'redisStart'

/** Hub, history, limits and transport settings: what `herald()` takes, with the CLI's defaults. */
export type HubSettings = Omit<HeraldOptions, ServerOnlyOption>

/**
 * `herald(options)`: every setting the CLI has for the hub (see `herald --help`), all optional;
 * `undefined` means the default (so `process.env`-derived values pass under exactOptionalPropertyTypes).
 */
export interface HeraldPluginOptions extends OptionalSettings {
  /**
   * Where Herald's routes live in your app: `'/rt'` serves `/rt/events`, `/rt/ws`,
   * `/rt/topics/…`, `/rt/publish`, `/rt/healthz`, `/rt/stats`. Default `''` (the app's root).
   * Must start with `/` and not end with one.
   */
  prefix?: string | undefined
  /** Where Herald logs (refused requests at debug, failures at error). Default: silent. */
  logger?: Logger | undefined
  /**
   * Verifies clients' tokens (see "Auth" in the README). Default: none, no key configured:
   * subscribing is open, publishing only from this machine (or from anywhere with `dev`).
   */
  auth?: Authenticator | undefined
  /**
   * Topics or patterns only your server's code may publish to (`herald.publish`); HTTP and
   * WebSocket publishers get 403 `forbidden_topic` on them, whatever their token says. Use it for
   * topics whose events your pages trust (a roster, a feed rendered as markup).
   */
  serverTopics?: readonly string[] | undefined
  /**
   * The address a request comes from, for the no-key rule "publish from loopback only". Default:
   * Bun's `server.requestIP`. Behind a proxy on the same machine every request is loopback:
   * configure a key there instead (or return the real client's address here).
   */
  remoteAddress?: RemoteAddress | undefined
}

/** The settings with defaults filled in. */
export function hubSettings(options: OptionalSettings): HubSettings {
  const { port: _port, host: _host, logLevel: _level, logFormat: _format, feedDb: _feed, staticDir: _static, demoTokens: _demo, redisStart: _start, ...settings } = DEFAULTS
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined))
  return { ...settings, ...defined }
}

import { DEFAULTS, type HeraldOptions } from './config'
import type { Logger } from './log'

/** The options of the CLI that belong to the standalone server, not to the hub and its routes. */
export type ServerOnlyOption = 'port' | 'host' | 'logLevel' | 'logFormat' | 'feedDb' | 'staticDir'

/** Hub, history, limits and transport settings: what `herald()` takes, with the CLI's defaults. */
export type HubSettings = Omit<HeraldOptions, ServerOnlyOption>

/** `herald(options)`: every setting the CLI has for the hub (see `herald --help`), all optional. */
export interface HeraldPluginOptions extends Partial<HubSettings> {
  /**
   * Where Herald's routes live in your app: `'/rt'` serves `/rt/events`, `/rt/ws`,
   * `/rt/topics/…`, `/rt/publish`, `/rt/healthz`, `/rt/stats`. Default `''` (the app's root).
   * Must start with `/` and not end with one.
   */
  prefix?: string
  /** Where Herald logs (refused requests at debug, failures at error). Default: silent. */
  logger?: Logger
}

/** The settings with defaults filled in. */
export function hubSettings(options: Partial<HubSettings>): HubSettings {
  const { port: _port, host: _host, logLevel: _level, logFormat: _format, feedDb: _feed, staticDir: _static, ...settings } = DEFAULTS
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined))
  return { ...settings, ...defined }
}

import { type BackoffSettings, backoffSettings } from './backoff'
import { type Tokens, tokens } from './token'
import type { ConnectOptions, Transport } from './types'

/** A `connect()`'s options with every default filled in, shared by its transports. */
export interface Settings {
  /** Base URL without a trailing slash. */
  base: string
  transport: Transport
  backoff: BackoffSettings
  idleTimeoutMs: number
  maxEventSize: number
  bufferSize: number
  /** The token to send now; undefined when the connection has none. */
  token: Tokens | undefined
}

export function settings(options: ConnectOptions): Settings {
  const origin = (globalThis as { location?: { origin?: string } }).location?.origin
  const url = options.url ?? origin
  if (!url) throw new TypeError('connect(): pass { url } (there is no page origin to default to)')
  const base = new URL(url, origin).href.replace(/\/+$/, '')
  return {
    base,
    transport: options.transport ?? 'ws',
    backoff: backoffSettings(options.backoff),
    idleTimeoutMs: options.idleTimeoutMs ?? 45_000,
    maxEventSize: options.maxEventSize ?? 1_048_576,
    bufferSize: options.bufferSize ?? 4_194_304,
    token: tokens(options.token),
  }
}

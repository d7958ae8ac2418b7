import { hubSettings, type HeraldPluginOptions } from './options'
import { type WsOptions, wsServerOptions } from './transports/ws'

/** The Bun WebSocket settings Herald depends on (Bun's `WebSocketHandler` options). */
export interface WebSocketSettings {
  maxPayloadLength?: number
  backpressureLimit?: number
  closeOnBackpressureLimit?: boolean
  idleTimeout?: number
  sendPings?: boolean
}

/**
 * What is wrong with an app's WebSocket settings for Herald, one phrase each (empty = fine).
 * A stricter setting than Herald's is fine; a missing or weaker one would let a slow reader grow
 * the server's memory, or a client send frames larger than the publish limit.
 */
export function checkWebSocketSettings(actual: WebSocketSettings | undefined, required: Required<Pick<WebSocketSettings, 'maxPayloadLength' | 'backpressureLimit' | 'closeOnBackpressureLimit'>>): string[] {
  const problems: string[] = []
  if (actual?.closeOnBackpressureLimit !== true) problems.push('lack closeOnBackpressureLimit: true (slow readers would never be cut)')
  if (actual?.backpressureLimit === undefined || actual.backpressureLimit > required.backpressureLimit) {
    problems.push(`need backpressureLimit at most ${required.backpressureLimit} (got ${actual?.backpressureLimit ?? "Bun's default of 16 MiB"})`)
  }
  if (actual?.maxPayloadLength === undefined || actual.maxPayloadLength > required.maxPayloadLength) {
    problems.push(`need maxPayloadLength at most ${required.maxPayloadLength} (got ${actual?.maxPayloadLength ?? "Bun's default of 16 MiB"})`)
  }
  return problems
}

/**
 * Herald's WebSocket settings for `new Elysia({ websocket: heraldWebSocket(options) })`, for an
 * app that mounts `herald()` inside another plugin rather than on the root app. Pass the same
 * options as to `herald()`.
 */
export function heraldWebSocket(options: HeraldPluginOptions = {}): ReturnType<typeof wsServerOptions> {
  const { prefix: _prefix, logger: _logger, ...rest } = options
  const settings = hubSettings(rest)
  const wsOptions: WsOptions = { maxMessageBytes: settings.maxMessageBytes, backpressureBytes: settings.wsBackpressureBytes }
  return wsServerOptions(wsOptions)
}

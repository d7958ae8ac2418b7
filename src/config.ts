/**
 * The only module that reads argv and the environment. Every option is one row of OPTIONS: its
 * flag, its env var, its default and its parser; `--help` and the README table are made from it.
 */
import pkg from '../package.json' with { type: 'json' }
import { parseSelector } from './hub/topics'
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './log'
import { checkRedisPrefix, checkRedisUrl, redactRedisUrl } from './redis/url'

export const VERSION: string = pkg.version

export interface HeraldOptions {
  /** TCP port; 0 picks a free one. */
  port: number
  /** Interface to listen on. */
  host: string
  /** Events kept per topic for resume. */
  historySize: number
  /** Topics whose history is kept; past it the least recently published topic's history goes. */
  historyTopics: number
  /** Milliseconds between SSE keep-alive comments on a quiet stream (0 = none). */
  keepAliveMs: number
  /** Reconnect delay sent to EventSource clients in the `retry:` line, in milliseconds. */
  retryMs: number
  /** Largest publish body (HTTP) or message (WebSocket), in bytes. */
  maxMessageBytes: number
  /** Events an SSE subscriber may have unread before it is cut (it resumes from its last id). */
  queueSize: number
  /** Bytes a WebSocket may have unsent before it is closed as too slow (Bun's backpressureLimit). */
  wsBackpressureBytes: number
  /** Most topics (selectors) in one subscription. */
  maxSubscriptionTopics: number
  /** Most topics and patterns one WebSocket may hold at once, over all its subscribe messages. */
  maxConnectionTopics: number
  /** Most topics and patterns subscribed at once across the server (SSE + WebSocket); 0 = no limit. */
  maxServerTopics: number
  /** Where history lives: `memory` (lost on restart) or `sqlite:PATH` (durable, survives restarts and crashes). */
  store: StoreSpec
  /** Events older than this many milliseconds leave the history (0 = only the count limits apply). */
  historyTtlMs: number
  /** Most subscriber connections (SSE streams + WebSockets) open at once; more get 503 (0 = no limit). */
  maxConnections: number
  /** How far, in milliseconds, a publisher-chosen id's time part may be from the server clock, either way (0 = it must be the current millisecond). */
  maxIdSkewMs: number
  /** Messages per second one WebSocket may send (bursts up to one second's worth); more get `rate_limited` (0 = no limit). */
  wsMessageRate: number
  /** Origins allowed to call Herald from a browser on another origin; empty = same origin only, ['*'] = any. */
  corsOrigins: string[]
  /** Page origins besides Herald's own whose WebSocket upgrades and cookie-authenticated requests are accepted (exact `--cors-origins` count too); ['*'] = any. */
  allowedOrigins: string[]
  /** With a key configured: milliseconds a WebSocket without a token has to authenticate (0 = no deadline). */
  wsAuthTimeoutMs: number
  /** Dev mode (`bun run dev`): with no key configured anyone may publish from anywhere. Never in production. */
  dev: boolean
  /** Longest a graceful shutdown may take before remaining connections are cut, in milliseconds. */
  shutdownTimeoutMs: number
  logLevel: LogLevel
  logFormat: LogFormat
  /** bun:sqlite file for the /feed demo's posts (created on the first feed request), or `:memory:` to keep none. */
  feedDb: string
  /** A folder of your own front-end files served at `/` (after Herald's routes and pages); '' = none. */
  staticDir: string
  /** HMAC secret tokens are signed with (HS256/384/512), at least MIN_SECRET_BYTES bytes; '' = none. */
  jwtSecret: string
  /** A public key PEM or a JWKS: a file path, or the key itself (text starting with `-----BEGIN` or `{`); '' = none. */
  jwtKey: string
  /** The `iss` every token must have; '' = not checked. */
  jwtIssuer: string
  /** An `aud` every token must have (or list); '' = not checked. */
  jwtAudience: string
  /** How far a token's `exp` and `nbf` may be off the server clock, in milliseconds (whole seconds). */
  jwtClockToleranceMs: number
  /** Most selectors in each of a token's `herald.publish` and `herald.subscribe` lists. */
  jwtMaxSelectors: number
  /** The cookie a token may be carried in. */
  jwtCookie: string
  /** Selectors anyone may subscribe to without a token, when a key is configured (read-only). */
  public: string[]
  /** With a key configured: the demo pages may mint short-lived demo tokens (`POST /chat/token`) for anyone who asks. Always on without a key. Local play only. */
  demoTokens: boolean
  /** A Redis URL (`redis://`, `rediss://` for TLS): history and delivery shared by every node with the same prefix; '' = this process alone. */
  redis: string
  /** The Redis password, when the URL carries none; '' = none. */
  redisPassword: string
  /** Key prefix in Redis: one Herald cluster (several may share a Redis). */
  redisPrefix: string
  /** When Redis cannot be reached at start: `require` exits (code 5), `degraded` starts not ready and keeps trying. */
  redisStart: RedisStart
  /** Longest a Redis command or connection attempt may take, in milliseconds. */
  redisTimeoutMs: number
  /** Entries the cluster log keeps for nodes that fell behind (a node further behind makes its clients resume). */
  redisLogSize: number
  /** On a cluster: how long a node that stopped heartbeating (every nodeTtlMs / 5) still counts (/stats, chat presence), in milliseconds. */
  nodeTtlMs: number
}

/** What `--redis-start` accepts. */
export const REDIS_START = ['require', 'degraded'] as const
export type RedisStart = (typeof REDIS_START)[number]

interface OptionRow<K extends keyof HeraldOptions> {
  key: K
  flag: string
  /** A switch: the flag alone means `true` (`--dev`); `--dev=false` and env values `1`/`0`, `true`/`false` work too. */
  switch?: true
  env: string[]
  default: HeraldOptions[K]
  /** How --help shows the default. */
  shown: string
  description: string
  parse: (text: string) => HeraldOptions[K]
  /** What the start-up log shows instead of the value (secrets). */
  redact?: (value: HeraldOptions[K]) => string
}

/** A bad flag, env var or value: main prints it with a hint and exits with code 2. */
export class ConfigError extends Error {}

function integer(min: number, max: number) {
  return (text: string): number => {
    const value = Number(text)
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new ConfigError(`expected a whole number from ${min} to ${max}, got "${text}"`)
    }
    return value
  }
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `250ms`, `15s`, `1.5s`, `2m`, `1h`; a bare number is milliseconds. Whole milliseconds only (`1.5` is refused, not rounded). */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text)
  if (!match) throw new ConfigError(`expected a duration such as 500ms, 15s or 2m, got "${text}"`)
  const exact = Number(match[1]) * (DURATION_UNITS[(match[2] ?? 'ms').toLowerCase()] ?? 1)
  if (!Number.isInteger(exact) && Number.isFinite(exact)) throw new ConfigError(`duration "${text}" is not a whole number of milliseconds`)
  const value = Math.round(exact)
  if (!Number.isSafeInteger(value) || value > 86_400_000) throw new ConfigError(`duration "${text}" is out of range (at most 24h)`)
  return value
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2 }

/** `65536`, `64kb`, `1mb` (binary units). */
export function parseSize(text: string): number {
  const match = /^\s*(\d+)\s*(b|kb|kib|mb|mib)?\s*$/i.exec(text)
  if (!match) throw new ConfigError(`expected a size such as 65536, 64kb or 1mb, got "${text}"`)
  const value = Number(match[1]) * (SIZE_UNITS[(match[2] ?? 'b').toLowerCase()] ?? 1)
  if (value < 1 || value > 64 * 1024 ** 2) throw new ConfigError(`size "${text}" must be from 1 byte to 64mb`)
  return value
}

function text(value: string): string {
  if (value.trim() === '') throw new ConfigError('expected a non-empty value')
  return value.trim()
}

function oneOf<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    const choice = choices.find((candidate) => candidate === value.trim().toLowerCase())
    if (!choice) throw new ConfigError(`expected one of ${choices.join(', ')}, got "${value}"`)
    return choice
  }
}

/** `*`, or a comma-separated list of origins such as `https://app.example.com,http://localhost:5173`. */
function origins(value: string): string[] {
  const list = value.split(',').map((origin) => origin.trim()).filter(Boolean)
  for (const origin of list) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) throw new ConfigError(`"${origin}" is not an origin such as https://app.example.com (no path, no trailing slash)`)
  }
  return list
}

/** Shortest `--jwt-secret`, in bytes (UTF-8): HS256's output size (RFC 7518 §3.2 asks at least this much key). */
export const MIN_SECRET_BYTES = 32

/** A JWT secret, exactly as given (not trimmed); never echoed in an error. */
function secret(value: string): string {
  const bytes = Buffer.byteLength(value, 'utf8')
  if (bytes < MIN_SECRET_BYTES) throw new ConfigError(`the secret is ${bytes} bytes; it must be at least ${MIN_SECRET_BYTES} (e.g. openssl rand -base64 48)`)
  return value
}

/** A duration in whole seconds, at most `maxSeconds`, as milliseconds. */
function wholeSeconds(maxSeconds: number) {
  return (value: string): number => {
    const ms = parseDuration(value)
    if (ms % 1000 !== 0 || ms > maxSeconds * 1000) throw new ConfigError(`expected whole seconds from 0 to ${maxSeconds}s, got "${value}"`)
    return ms
  }
}

/** A cookie name (RFC 6265 token characters). */
function cookieName(value: string): string {
  const name = value.trim()
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new ConfigError(`"${value}" is not a cookie name (letters, digits and !#$%&'*+-.^_\`|~)`)
  return name
}

/** Selectors separated by commas or spaces, e.g. `news/**,status`. */
function selectors(value: string): string[] {
  const list = value.split(/[\s,]+/).filter(Boolean)
  if (list.length === 0) throw new ConfigError('expected selectors such as news/** or news/**,status')
  for (const selector of list) {
    try {
      parseSelector(selector)
    } catch (error) {
      throw new ConfigError((error as Error).message)
    }
  }
  return list
}

/** A switch's value: true/1/yes/on or false/0/no/off. */
function onOff(value: string): boolean {
  const text = value.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(text)) return true
  if (['false', '0', 'no', 'off', ''].includes(text)) return false
  throw new ConfigError(`expected true or false, got "${value}"`)
}

/** `memory`, or `sqlite:` followed by a file path. */
export type StoreSpec = 'memory' | `sqlite:${string}`

function storeSpec(value: string): StoreSpec {
  const spec = value.trim()
  if (spec === 'memory') return spec
  if (spec.startsWith('sqlite:') && spec.length > 'sqlite:'.length) return spec as StoreSpec
  throw new ConfigError(`expected "memory" or "sqlite:PATH" (e.g. sqlite:./herald.db), got "${value}"`)
}

/** A Redis key prefix (see redis/url.ts `checkRedisPrefix`). */
function redisPrefix(value: string): string {
  try {
    return checkRedisPrefix(value.trim())
  } catch (error) {
    throw new ConfigError((error as Error).message)
  }
}

/** A Redis URL, checked (see redis/url.ts). */
function redisUrl(value: string): string {
  try {
    return checkRedisUrl(value)
  } catch (error) {
    throw new ConfigError((error as Error).message)
  }
}

/** A duration from 1 ms to `maxMs`. */
function positiveDuration(maxMs: number) {
  return (value: string): number => {
    const ms = parseDuration(value)
    if (ms < 1 || ms > maxMs) throw new ConfigError(`expected a duration from 1ms to ${maxMs / 1000}s, got "${value}"`)
    return ms
  }
}

/** A retention age: 0 (forever), a duration as for parseDuration, or whole days such as `7d` (at most 365d). */
export function parseTtl(text: string): number {
  const days = /^\s*(\d+)\s*d\s*$/i.exec(text)
  if (!days) return parseDuration(text)
  const value = Number(days[1]) * 86_400_000
  if (value > 365 * 86_400_000) throw new ConfigError(`"${text}" is more than 365d`)
  return value
}

/** A node's time to live: 1 s to 5 min. */
function nodeTtl(value: string): number {
  const ms = parseDuration(value)
  if (ms < 1000 || ms > 300_000) throw new ConfigError(`expected a duration from 1s to 5m, got "${value}"`)
  return ms
}

function row<K extends keyof HeraldOptions>(r: OptionRow<K>): OptionRow<K> {
  return r
}

/** Every option, in --help order. */
export const OPTIONS = [
  row({ key: 'port', flag: '--port', env: ['PORT', 'HERALD_PORT'], default: 3000, shown: '3000', description: 'TCP port to listen on (0 = any free port)', parse: integer(0, 65535) }),
  row({ key: 'host', flag: '--host', env: ['HOST', 'HERALD_HOST'], default: '0.0.0.0', shown: '0.0.0.0', description: 'interface to listen on', parse: text }),
  row({ key: 'historySize', flag: '--history', env: ['HERALD_HISTORY'], default: 1000, shown: '1000', description: 'events kept per topic for resume (Last-Event-ID)', parse: integer(1, 1_000_000) }),
  row({ key: 'historyTopics', flag: '--history-topics', env: ['HERALD_HISTORY_TOPICS'], default: 10_000, shown: '10000', description: 'topics whose history is kept (least recently published dropped first)', parse: integer(1, 10_000_000) }),
  row({ key: 'keepAliveMs', flag: '--keep-alive', env: ['HERALD_KEEP_ALIVE'], default: 15_000, shown: '15s', description: 'keep-alive comment interval on quiet SSE streams (0 = off)', parse: parseDuration }),
  row({ key: 'retryMs', flag: '--retry', env: ['HERALD_RETRY'], default: 3000, shown: '3s', description: 'reconnect delay sent to EventSource clients (retry:)', parse: parseDuration }),
  row({ key: 'maxMessageBytes', flag: '--max-message-size', env: ['HERALD_MAX_MESSAGE_SIZE'], default: 65_536, shown: '64kb', description: 'largest publish body or WebSocket message (larger → 413 / error)', parse: parseSize }),
  row({ key: 'queueSize', flag: '--queue-size', env: ['HERALD_QUEUE_SIZE'], default: 4096, shown: '4096', description: 'unread events an SSE subscriber may hold before it is cut', parse: integer(1, 1_000_000) }),
  row({ key: 'wsBackpressureBytes', flag: '--ws-backpressure', env: ['HERALD_WS_BACKPRESSURE'], default: 4 * 1024 ** 2, shown: '4mb', description: 'unsent bytes a WebSocket may hold before it is closed as too slow', parse: parseSize }),
  row({ key: 'maxSubscriptionTopics', flag: '--max-subscription-topics', env: ['HERALD_MAX_SUBSCRIPTION_TOPICS'], default: 64, shown: '64', description: 'most topics one subscription may name', parse: integer(1, 10_000) }),
  row({ key: 'maxConnectionTopics', flag: '--max-connection-topics', env: ['HERALD_MAX_CONNECTION_TOPICS'], default: 256, shown: '256', description: 'most topics and patterns one WebSocket may hold, over all its subscribes', parse: integer(1, 1_000_000) }),
  row({ key: 'maxServerTopics', flag: '--max-server-topics', env: ['HERALD_MAX_SERVER_TOPICS'], default: 100_000, shown: '100000', description: 'most topics and patterns subscribed at once, all connections together; more get 503 (0 = no limit)', parse: integer(0, 100_000_000) }),
  row({ key: 'store', flag: '--store', env: ['HERALD_STORE'], default: 'memory', shown: 'memory', description: 'event history: memory (lost on restart) or sqlite:PATH (durable)', parse: storeSpec }),
  row({ key: 'historyTtlMs', flag: '--history-ttl', env: ['HERALD_HISTORY_TTL'], default: 0, shown: '0 (no age limit)', description: 'drop history older than this, e.g. 1h or 7d (0 = keep until --history)', parse: parseTtl }),
  row({ key: 'maxConnections', flag: '--max-connections', env: ['HERALD_MAX_CONNECTIONS'], default: 10_000, shown: '10000', description: 'most SSE streams + WebSockets open at once; more get 503 (0 = no limit)', parse: integer(0, 10_000_000) }),
  row({ key: 'maxIdSkewMs', flag: '--max-id-skew', env: ['HERALD_MAX_ID_SKEW'], default: 60_000, shown: '60s', description: 'how far from the server clock a publisher-chosen id\'s milliseconds may be, either way (else 400 invalid_id)', parse: parseDuration }),
  row({ key: 'wsMessageRate', flag: '--ws-message-rate', env: ['HERALD_WS_MESSAGE_RATE'], default: 100, shown: '100', description: 'messages per second one WebSocket may send, in bursts of as many; more get a rate_limited error (0 = no limit)', parse: integer(0, 1_000_000) }),
  row({ key: 'corsOrigins', flag: '--cors-origins', env: ['HERALD_CORS_ORIGINS'], default: [], shown: '(none: same origin only)', description: 'browser origins allowed to publish and subscribe cross-origin (comma-separated, or *)', parse: origins }),
  row({ key: 'allowedOrigins', flag: '--allowed-origins', env: ['HERALD_ALLOWED_ORIGINS'], default: [], shown: '(none: same origin only)', description: 'page origins besides Herald\'s own (and --cors-origins) that may open WebSockets and send cookie tokens (comma-separated, or *)', parse: origins }),
  row({ key: 'wsAuthTimeoutMs', flag: '--ws-auth-timeout', env: ['HERALD_WS_AUTH_TIMEOUT'], default: 10_000, shown: '10s', description: 'with a key: how long a WebSocket without a token has to send an auth message (or hold a public subscription) before it is closed with 4408 (0 = no limit)', parse: parseDuration }),
  row({ key: 'dev', flag: '--dev', env: ['HERALD_DEV'], default: false, shown: 'off', switch: true, description: 'dev mode (bun run dev): with no key configured, anyone may publish from anywhere; never in production', parse: onOff }),
  row({ key: 'shutdownTimeoutMs', flag: '--shutdown-timeout', env: ['HERALD_SHUTDOWN_TIMEOUT'], default: 10_000, shown: '10s', description: 'longest a graceful shutdown (SIGINT/SIGTERM) may take', parse: parseDuration }),
  row({ key: 'logLevel', flag: '--log-level', env: ['HERALD_LOG_LEVEL'], default: 'info', shown: 'info', description: `log records at or above: ${LOG_LEVELS.join(', ')}`, parse: oneOf(LOG_LEVELS) }),
  row({ key: 'logFormat', flag: '--log-format', env: ['HERALD_LOG_FORMAT'], default: 'text', shown: 'text', description: 'log line format: text or json', parse: oneOf(LOG_FORMATS) }),
  row({ key: 'feedDb', flag: '--feed-db', env: ['HERALD_FEED_DB'], default: 'herald-feed.sqlite', shown: 'herald-feed.sqlite', description: 'sqlite file for the /feed demo\'s posts, created on first use (:memory: = not kept)', parse: text }),
  row({ key: 'staticDir', flag: '--static', env: ['HERALD_STATIC'], default: '', shown: '(none)', description: 'serve your own front-end from this folder at / (same origin as the hub: no CORS needed)', parse: text }),
  row({ key: 'jwtSecret', flag: '--jwt-secret', env: ['HERALD_JWT_SECRET'], default: '', shown: '(none)', description: `HMAC secret for HS256/384/512 tokens, at least ${MIN_SECRET_BYTES} bytes (never logged)`, parse: secret, redact: () => '(set)' }),
  row({ key: 'jwtKey', flag: '--jwt-key', env: ['HERALD_JWT_KEY'], default: '', shown: '(none)', description: 'public key PEM (RSA, EC, Ed25519) or JWKS file that tokens are verified with; or the PEM/JSON itself', parse: text, redact: (value) => (/^\s*(-----BEGIN|\{)/.test(value) ? '(inline key)' : value) }),
  row({ key: 'jwtIssuer', flag: '--jwt-issuer', env: ['HERALD_JWT_ISSUER'], default: '', shown: '(not checked)', description: 'the "iss" every token must have', parse: text }),
  row({ key: 'jwtAudience', flag: '--jwt-audience', env: ['HERALD_JWT_AUDIENCE'], default: '', shown: '(not checked)', description: 'an "aud" every token must have', parse: text }),
  row({ key: 'jwtClockToleranceMs', flag: '--jwt-clock-tolerance', env: ['HERALD_JWT_CLOCK_TOLERANCE'], default: 30_000, shown: '30s', description: 'how far a token\'s exp and nbf may be off this server\'s clock (whole seconds, at most 10m)', parse: wholeSeconds(600) }),
  row({ key: 'jwtMaxSelectors', flag: '--jwt-max-selectors', env: ['HERALD_JWT_MAX_SELECTORS'], default: 100, shown: '100', description: 'most selectors in each of a token\'s herald.publish and herald.subscribe lists (more → 401 invalid_token)', parse: integer(1, 10_000) }),
  row({ key: 'jwtCookie', flag: '--jwt-cookie', env: ['HERALD_JWT_COOKIE'], default: 'herald_token', shown: 'herald_token', description: 'the cookie a token may be carried in', parse: cookieName }),
  row({ key: 'public', flag: '--public', env: ['HERALD_PUBLIC'], default: [], shown: '(none)', description: 'selectors anyone may subscribe to without a token when a key is set, e.g. news/**,status (comma-separated)', parse: selectors }),
  row({ key: 'redis', flag: '--redis', env: ['HERALD_REDIS'], default: '', shown: '(none: one process)', description: 'Redis URL (redis://host:6379/0, rediss:// for TLS): nodes with the same --redis-prefix share history and deliver every event everywhere', parse: redisUrl, redact: redactRedisUrl }),
  row({ key: 'redisPassword', flag: '--redis-password', env: ['HERALD_REDIS_PASSWORD'], default: '', shown: '(none)', description: 'Redis password when the URL carries none (never logged; prefer the env var)', parse: (value: string) => value, redact: () => '(set)' }),
  row({ key: 'redisPrefix', flag: '--redis-prefix', env: ['HERALD_REDIS_PREFIX'], default: 'herald', shown: 'herald', description: 'key prefix in Redis: one cluster (several clusters may share a Redis)', parse: redisPrefix }),
  row({ key: 'redisStart', flag: '--redis-start', env: ['HERALD_REDIS_START'], default: 'require', shown: 'require', description: 'when Redis is down at start: require = exit with code 5; degraded = start, /readyz 503 until connected', parse: oneOf(REDIS_START) }),
  row({ key: 'redisTimeoutMs', flag: '--redis-timeout', env: ['HERALD_REDIS_TIMEOUT'], default: 2000, shown: '2s', description: 'longest a Redis command or connection attempt may take (a publish past it gets 503 store_unavailable)', parse: positiveDuration(60_000) }),
  row({ key: 'redisLogSize', flag: '--redis-log', env: ['HERALD_REDIS_LOG'], default: 100_000, shown: '100000', description: 'entries the cluster log keeps for nodes that fell behind (a node further behind makes its clients resume)', parse: integer(1, 100_000_000) }),
  row({ key: 'demoTokens', flag: '--demo-tokens', env: ['HERALD_DEMO_TOKENS'], default: false, shown: 'off (always on with no key)', switch: true, description: 'with a key: the chat demo hands anyone who asks a 15-minute token for a name (POST /chat/token); local play only, never on a public server', parse: onOff }),
  row({ key: 'nodeTtlMs', flag: '--node-ttl', env: ['HERALD_NODE_TTL'], default: 10_000, shown: '10s', description: 'with --redis: a node that stops heartbeating (every ttl/5) leaves /stats and its chat users go offline after this long (1s to 5m)', parse: nodeTtl }),
] as const

export const DEFAULTS: HeraldOptions = Object.fromEntries(OPTIONS.map((option) => [option.key, option.default])) as unknown as HeraldOptions

/** The options that differ from their defaults, for the start-up log line. */
export function changedOptions(options: HeraldOptions): Partial<HeraldOptions> {
  const changed = Object.entries(options).filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(DEFAULTS[key as keyof HeraldOptions]))
  return Object.fromEntries(
    changed.map(([key, value]) => {
      const redact = (OPTIONS.find((option) => option.key === key) as { redact?: (value: unknown) => string } | undefined)?.redact
      return [key, redact ? redact(value) : value]
    }),
  ) as Partial<HeraldOptions>
}

export type Command = { kind: 'serve'; options: HeraldOptions } | { kind: 'help' } | { kind: 'version' }

/** Reads flags (`--port 8080` or `--port=8080`) over env vars over defaults. Throws ConfigError. */
export function parseCommandLine(argv: readonly string[], env: Record<string, string | undefined>): Command {
  const options: Record<string, unknown> = { ...DEFAULTS }
  for (const option of OPTIONS) {
    for (const name of option.env) {
      const value = env[name]
      if (value === undefined || value === '') continue
      options[option.key] = withContext(`${name}`, () => option.parse(value))
      break
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--help' || arg === '-h') return { kind: 'help' }
    if (arg === '--version' || arg === '-v') return { kind: 'version' }
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    const option: (typeof OPTIONS)[number] | undefined = OPTIONS.find((candidate) => candidate.flag === flag)
    if (!option) throw new ConfigError(`unknown option "${arg}"`)
    // A switch takes no value unless it is written inline (`--dev=false`).
    const value = 'switch' in option && option.switch && inline === undefined ? 'true' : (inline ?? argv[++i])
    if (value === undefined) throw new ConfigError(`${flag} needs a value`)
    options[option.key] = withContext(flag, () => option.parse(value))
  }
  return { kind: 'serve', options: options as unknown as HeraldOptions }
}

function withContext<T>(where: string, parse: () => T): T {
  try {
    return parse()
  } catch (error) {
    throw new ConfigError(`${where}: ${(error as Error).message}`)
  }
}

/** The text `herald --help` prints. */
export function helpText(): string {
  const lines = [`Herald ${VERSION}: Server-Sent Events and WebSockets from one topic registry.`, '', 'Usage: herald [options]', '       herald token --sub NAME --subscribe SELECTOR --publish SELECTOR --ttl 1h   (prints a signed token; herald token --help)', '', 'Options (flag, environment variable, default):']
  for (const option of OPTIONS) {
    const usage = 'switch' in option && option.switch ? option.flag : `${option.flag} <value>`
    lines.push(`  ${usage.padEnd(34)} ${option.description}`)
    lines.push(`  ${''.padEnd(34)} env ${option.env.join(' or ')}; default ${option.shown}`)
  }
  lines.push(`  ${'--help, -h'.padEnd(34)} show this help`, `  ${'--version, -v'.padEnd(34)} print the version`, '', 'Durations: 500ms, 15s, 2m (a bare number is milliseconds). Sizes: 65536, 64kb, 1mb.')
  return lines.join('\n')
}

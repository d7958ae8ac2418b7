/**
 * How the `herald` command ends when it cannot start: one line on stderr saying what went wrong and
 * how to fix it, and an exit code per kind of failure, so scripts and supervisors can tell a typo
 * from a busy port from an unusable store. No stack: in the compiled binary it is minified source.
 */
import { ConfigError } from './config'
import { HubError } from './hub/errors'
import { redactRedisUrl } from './redis/url'

/**
 * The start line's `auth` field for each mode: who may publish, and how to configure a key. The
 * dev mode's says it loudly on every start line (and DEV_MODE_WARNING comes first, as a warning).
 */
export const AUTH_MODES = {
  tokens: 'tokens: publishing, and subscribing beyond --public, need a token',
  loopback: 'no key configured: anyone may subscribe, only this machine (loopback) may publish; to accept tokens, configure --jwt-secret or --jwt-key',
  dev: 'DEV MODE, no key configured: ANYONE who can reach this server may publish to any topic; configure --jwt-secret or --jwt-key for anything but local play',
} as const

/** The start line's `demoTokens` field while the chat demo hands out tokens (always without a key; with one, `--demo-tokens`). */
export const DEMO_TOKENS_ON = 'on: POST /chat/token gives anyone who asks a 15-minute token for a chat name (demos only; never run --demo-tokens on a public server)'

/** Logged as a warning before the start line in dev mode. */
export const DEV_MODE_WARNING = 'DEV MODE (--dev): no key is configured and anyone who can reach this server may publish to any topic, from anywhere; never run --dev in production (without it, only this machine may publish)'

/** The exit codes of the `herald` command (listed by --help and in the README). */
export const EXIT_CODES = {
  /** Stopped by SIGINT / SIGTERM after a graceful shutdown; or --help, --version. */
  ok: 0,
  /** An unexpected error, a failed shutdown, or a second signal during shutdown. */
  failed: 1,
  /** A bad flag, environment variable or value. */
  badOption: 2,
  /** Cannot listen: the port is in use, the address is not on this machine, or permission denied. */
  cannotListen: 3,
  /** The `--store` history cannot be opened: missing directory, no permission, not a Herald file, held by another process. */
  storeUnavailable: 4,
  /** `--redis` cannot be reached at start (with `--redis-start require`, the default). */
  redisUnavailable: 5,
} as const

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES]

/** The "Exit codes" block of --help. */
export function exitCodesHelp(): string {
  return [
    'Exit codes:',
    `  ${EXIT_CODES.ok}  stopped by SIGINT/SIGTERM (graceful shutdown), or --help/--version`,
    `  ${EXIT_CODES.failed}  unexpected error, failed shutdown, or a second signal`,
    `  ${EXIT_CODES.badOption}  bad option (flag, environment variable or value)`,
    `  ${EXIT_CODES.cannotListen}  cannot listen: port in use, address not on this machine, or no permission`,
    `  ${EXIT_CODES.storeUnavailable}  --store cannot be opened (missing directory, permission, not a Herald file, held by another Herald)`,
    `  ${EXIT_CODES.redisUnavailable}  --redis cannot be reached at start (with --redis-start require, the default)`,
  ].join('\n')
}

/** Why herald could not start: `message` is one line (what, and how to fix it); `exitCode` is one of EXIT_CODES. */
export interface StartupFailure {
  message: string
  exitCode: ExitCode
}

/** Where herald tried to listen, for the message. */
export interface StartupTarget {
  host: string
  port: number
}

/** Bun's listen error carries the errno name (`EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`, …) in `code`. */
function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** `host:port`, with brackets around an IPv6 host. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`
}

/** Collapses any line breaks a library put in its message, so the failure stays one line. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim()
}

/** A bad option (from parseCommandLine): what was wrong, and where to look. */
export function optionFailure(error: ConfigError): StartupFailure {
  return { message: `${oneLine(error.message)}; run "herald --help" to see every option`, exitCode: EXIT_CODES.badOption }
}

/** A failure to listen (Bun.serve threw). */
export function listenFailure(error: unknown, target: StartupTarget): StartupFailure {
  const where = hostPort(target.host, target.port)
  const code = errnoCode(error)
  const exitCode = EXIT_CODES.cannotListen
  if (code === 'EADDRINUSE') {
    return { message: `cannot listen on ${where}: the port is already in use (another Herald, or another program); stop it or choose another port with --port`, exitCode }
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return { message: `cannot listen on ${where}: permission denied; choose a port above 1023 with --port, or run with the right to bind it`, exitCode }
  }
  const reason = error instanceof Error ? oneLine(error.message) : String(error)
  return { message: `cannot listen on ${where}: ${reason}; check --host (an address of this machine, 0.0.0.0 for all) and --port`, exitCode }
}

/** A failure while building the app: an option found bad only then (a key file: exit 2), the store (exit 4), or anything unexpected (exit 1). */
export function buildFailure(error: unknown): StartupFailure {
  if (error instanceof ConfigError) return optionFailure(error)
  if (error instanceof HubError && error.code === 'store_unavailable') {
    const reason = oneLine(error.message)
    const hint = /locked|busy/i.test(reason)
      ? 'another Herald (or another program) has this file open; stop it, or give this server its own file with --store'
      : /not a database|schema version/i.test(reason)
        ? '--store must name a new path, or a history file this version of Herald made'
        : 'check that the directory exists and is writable, or choose another path with --store sqlite:PATH'
    return { message: `${reason}; ${hint}`, exitCode: EXIT_CODES.storeUnavailable }
  }
  return unexpectedFailure(error)
}

/** Redis could not be reached at start (`--redis-start require`): where (password hidden), why, and the ways out. */
export function redisFailure(error: unknown, url: string): StartupFailure {
  const reason = oneLine(error instanceof Error ? error.message : String(error))
  return {
    message: `cannot reach Redis ${redactRedisUrl(url)}: ${reason}; start Redis or fix --redis (and its password), or start anyway with --redis-start degraded (/readyz answers 503 until Redis is reachable)`,
    exitCode: EXIT_CODES.redisUnavailable,
  }
}

/** Anything else that stops the start: one line with the reason; the code says it is not the user's doing. */
export function unexpectedFailure(error: unknown): StartupFailure {
  const reason = error instanceof Error ? `${error.name}: ${oneLine(error.message)}` : oneLine(String(error))
  return { message: `could not start: ${reason} (this looks like a bug in Herald; please report it)`, exitCode: EXIT_CODES.failed }
}

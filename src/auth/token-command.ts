/**
 * `herald token`: prints a token signed with the configured `--jwt-secret`, for scripts and first
 * steps. Pure (argv and env in, text or a failure out); main.ts does the printing and exiting.
 */
import { ConfigError, OPTIONS, parseTtl } from '../config'
import { HubError } from '../hub/errors'
import { EXIT_CODES, type StartupFailure } from '../startup'
import { HS_ALGORITHMS, type HsAlgorithm } from './keys'
import { signToken, type TokenRequest } from './sign'

/** `herald token --help`. */
export const TOKEN_HELP = `Usage: herald token --sub NAME [--subscribe SELECTORS]... [--publish SELECTORS]... [--ttl 1h]

Prints a JWT signed with --jwt-secret (HERALD_JWT_SECRET) that a Herald with the same secret accepts.

  --sub NAME                 the token's subject; {sub} in a selector becomes it (escaped into one segment)
  --subscribe SELECTORS      what it may subscribe to, and see private events on (repeatable; comma-separated)
  --publish SELECTORS        what it may publish to (repeatable; comma-separated)
  --ttl DURATION             lifetime: 90s, 15m, 1h, 7d (default 1h, at most 365d)
  --alg HS256|HS384|HS512    signature algorithm (default HS256)
  --jwt-secret SECRET        env HERALD_JWT_SECRET; at least 32 bytes
  --jwt-issuer ISS           env HERALD_JWT_ISSUER; sets "iss" (the server checks it when set)
  --jwt-audience AUD         env HERALD_JWT_AUDIENCE; sets "aud" (the server checks it when set)

Example: herald token --sub ada --subscribe 'users/{sub}/**,news/**' --publish 'chat/**' --ttl 1h`

/** What `herald token` does: print the help, or sign. */
export type TokenCommand = { kind: 'help' } | { kind: 'sign'; request: TokenRequest }

const DEFAULT_TTL_MS = 3_600_000

function optionParser(key: 'jwtSecret' | 'jwtIssuer' | 'jwtAudience'): { flag: string; env: readonly string[]; parse: (text: string) => unknown } {
  return OPTIONS.find((option) => option.key === key) as { flag: string; env: readonly string[]; parse: (text: string) => unknown }
}

/** Reads `herald token`'s arguments (after `token`) over the env vars. Throws ConfigError. */
export function parseTokenCommand(argv: readonly string[], env: Record<string, string | undefined>): TokenCommand {
  const values: Record<string, string | undefined> = {}
  for (const key of ['jwtSecret', 'jwtIssuer', 'jwtAudience'] as const) {
    const option = optionParser(key)
    const name = option.env.find((candidate) => env[candidate])
    if (name) values[option.flag] = env[name]
  }
  const subscribe: string[] = []
  const publish: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--help' || arg === '-h') return { kind: 'help' }
    const [flag, inline] = arg.includes('=') && arg.startsWith('--') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    if (!['--sub', '--subscribe', '--publish', '--ttl', '--alg', '--jwt-secret', '--jwt-issuer', '--jwt-audience'].includes(flag)) {
      throw new ConfigError(`unknown option "${flag}"`)
    }
    const value = inline ?? argv[++i]
    if (value === undefined) throw new ConfigError(`${flag} needs a value`)
    if (flag === '--subscribe' || flag === '--publish') (flag === '--subscribe' ? subscribe : publish).push(...value.split(/[\s,]+/).filter(Boolean))
    else values[flag] = value
  }
  const secretText = values['--jwt-secret']
  if (secretText === undefined) throw new ConfigError('no secret to sign with: give the one the server verifies with, --jwt-secret or HERALD_JWT_SECRET')
  const secret = parsed('jwtSecret', secretText) as string
  if (subscribe.length === 0 && publish.length === 0) throw new ConfigError('give what the token may do, with --subscribe and/or --publish')
  const alg = values['--alg'] ?? 'HS256'
  if (!(HS_ALGORITHMS as readonly string[]).includes(alg)) throw new ConfigError(`--alg must be one of ${HS_ALGORITHMS.join(', ')}, got "${alg}"`)
  const ttlText = values['--ttl']
  const ttlMs = ttlText === undefined ? DEFAULT_TTL_MS : withFlag('--ttl', () => parseTtl(ttlText))
  if (ttlMs <= 0) throw new ConfigError('--ttl must be more than 0')
  const request: TokenRequest = { secret, ttlMs, alg: alg as HsAlgorithm, sub: values['--sub'], issuer: values['--jwt-issuer'], audience: values['--jwt-audience'] }
  if (subscribe.length > 0) request.subscribe = subscribe
  if (publish.length > 0) request.publish = publish
  return { kind: 'sign', request }
}

function parsed(key: 'jwtSecret', text: string): unknown {
  const option = optionParser(key)
  return withFlag(option.flag, () => option.parse(text))
}

function withFlag<T>(flag: string, parse: () => T): T {
  try {
    return parse()
  } catch (error) {
    throw new ConfigError(`${flag}: ${(error as Error).message}`)
  }
}

/**
 * Runs `herald token` (argv after `token`): the text for stdout (the token and a newline, or the
 * help), or the failure to print (one line) and exit with: a bad argument, a missing or short
 * secret, or a selector the server would refuse exit 2 (`EXIT_CODES.badOption`).
 */
export function tokenCommand(argv: readonly string[], env: Record<string, string | undefined>): { stdout: string } | StartupFailure {
  try {
    const command = parseTokenCommand(argv, env)
    if (command.kind === 'help') return { stdout: `${TOKEN_HELP}\n` }
    return { stdout: `${signToken(command.request)}\n` }
  } catch (error) {
    if (error instanceof ConfigError || error instanceof HubError) {
      const message = error.message.replace(/\s*[\r\n]+\s*/g, ' ')
      return { message: `token: ${message}; run "herald token --help"`, exitCode: EXIT_CODES.badOption }
    }
    throw error
  }
}

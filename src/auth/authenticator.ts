/**
 * The Authenticator (types.ts) Herald builds from its `--jwt-*` and `--public` options: jose verifies
 * the signature with the algorithm pinned by the configured key (keys.ts), `exp`/`nbf` with the clock
 * tolerance, `iss`/`aud` when configured; claims.ts turns the claims into the principal. Every
 * refusal is a HubError `invalid_token` or `token_expired` whose message says why without echoing
 * the token.
 */
import { errors, type JWTPayload, jwtVerify } from 'jose'
import { ConfigError, type HeraldOptions } from '../config'
import { HubError } from '../hub/errors'
import { parseSelector, type Selector } from '../hub/topics'
import { principalFromClaims } from './claims'
import { loadVerificationKeys, type VerificationKeys } from './keys'
import { AnonymousPrincipal, OPEN_PRINCIPAL } from './principals'
import { SelectorRules } from './rules'
import type { AuthPrincipal, Authenticator } from './types'

/** The options authentication reads (the CLI's, `herald --help`; the plugin takes the same names). */
export type AuthSettings = Pick<HeraldOptions, 'jwtSecret' | 'jwtKey' | 'jwtIssuer' | 'jwtAudience' | 'jwtClockToleranceMs' | 'jwtMaxSelectors' | 'public'>

/** For tests: the clock (milliseconds since the epoch) `exp` and `nbf` are checked against. */
export interface AuthenticatorOptions {
  now?: () => number
}

/** Herald's Authenticator, with what it was configured with (for the start-up log). */
export interface HeraldAuthenticator extends Authenticator {
  /** The algorithms tokens may use (empty when `enabled` is false). */
  readonly algorithms: readonly string[]
  /** `--public`, as given. */
  readonly publicSelectors: readonly string[]
}

/**
 * Builds the Authenticator. With neither `jwtSecret` nor `jwtKey`, `enabled` is false: `anonymous()`
 * is a principal that may do everything (the edges keep publishing to loopback), and `verify()`
 * refuses every token (`invalid_token`: there is no key to check it with), so an edge never treats
 * an unverifiable token as a grant. Setting `public`, `jwtIssuer` or `jwtAudience` without a key
 * is a ConfigError (it would mean nothing); so is a bad key or secret. Reads the key file now.
 */
export function createAuthenticator(settings: AuthSettings, options: AuthenticatorOptions = {}): HeraldAuthenticator {
  const keys = loadVerificationKeys(settings.jwtSecret, settings.jwtKey)
  const publicRules = new SelectorRules(settings.public.map(publicSelector))
  if (!keys) {
    const useless = (['public', 'jwtIssuer', 'jwtAudience'] as const).find((key) => settings[key].length > 0)
    if (useless) {
      const flag = { public: '--public', jwtIssuer: '--jwt-issuer', jwtAudience: '--jwt-audience' }[useless]
      throw new ConfigError(`${flag} needs --jwt-secret or --jwt-key: without a key every token is refused and everyone may already subscribe to everything`)
    }
    return {
      enabled: false,
      algorithms: [],
      publicSelectors: [],
      verify: async () => {
        throw new HubError('invalid_token', 'this Herald verifies no tokens: no key is configured (--jwt-secret or --jwt-key)')
      },
      anonymous: () => OPEN_PRINCIPAL,
    }
  }
  const anonymous = new AnonymousPrincipal(publicRules)
  const toleranceSeconds = Math.floor(settings.jwtClockToleranceMs / 1000)
  const claimOptions = { publicRules, maxSelectors: settings.jwtMaxSelectors, toleranceSeconds }
  const context: ErrorContext = { keys, toleranceSeconds, issuer: settings.jwtIssuer, audience: settings.jwtAudience }
  return {
    enabled: true,
    algorithms: keys.algorithms,
    publicSelectors: [...settings.public],
    async verify(token: string): Promise<AuthPrincipal> {
      let payload: JWTPayload
      try {
        ;({ payload } = await jwtVerify(token, keys.keyFor, {
          algorithms: [...keys.algorithms],
          clockTolerance: toleranceSeconds,
          ...(settings.jwtIssuer ? { issuer: settings.jwtIssuer } : {}),
          ...(settings.jwtAudience ? { audience: settings.jwtAudience } : {}),
          ...(options.now ? { currentDate: new Date(options.now()) } : {}),
        }))
      } catch (error) {
        throw tokenError(error, token, context)
      }
      return principalFromClaims(payload, claimOptions)
    },
    anonymous: () => anonymous,
  }
}

/** One `--public` selector (the CLI checked it; the plugin's option arrives unchecked). */
function publicSelector(source: string): Selector {
  try {
    return parseSelector(source)
  } catch (error) {
    throw new ConfigError(`--public: ${(error as Error).message}`)
  }
}

interface ErrorContext {
  keys: VerificationKeys
  toleranceSeconds: number
  issuer: string
  audience: string
}

/** A value from the token for a message: JSON, short (it is the sender's own data, never the whole token). */
function shown(value: unknown, max = 40): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > max ? `${text.slice(0, max - 3)}...` : text
}

function at(seconds: unknown): string {
  return typeof seconds === 'number' && Number.isFinite(seconds) && Math.abs(seconds) < 8.64e12 ? new Date(seconds * 1000).toISOString() : shown(seconds)
}

/** The token's header `alg`, for a message; undefined when the header cannot be read. */
function headerAlg(token: string): unknown {
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8')) as { alg?: unknown }
    return header.alg
  } catch {
    return undefined
  }
}

/** jose's error → the HubError a client gets. Anything jose did not raise is a bug and passes through. */
function tokenError(error: unknown, token: string, context: ErrorContext): unknown {
  const tolerance = `clock tolerance ${context.toleranceSeconds}s`
  if (error instanceof errors.JWTExpired) {
    return new HubError('token_expired', `the token expired at ${at(error.payload.exp)} (${tolerance}); get a fresh one`)
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const { claim, reason, payload } = error
    if (claim === 'nbf' && reason === 'check_failed') return new HubError('token_expired', `the token is not valid before ${at(payload.nbf)} (${tolerance}); check the clocks, or wait`)
    if (claim === 'iss') return new HubError('invalid_token', reason === 'missing' ? `the token has no "iss"; this server requires ${shown(context.issuer)}` : `the token's issuer ${shown(payload.iss)} is not ${shown(context.issuer)}`)
    if (claim === 'aud') return new HubError('invalid_token', reason === 'missing' ? `the token has no "aud"; this server requires ${shown(context.audience)}` : `the token's audience ${shown(payload.aud)} does not include ${shown(context.audience)}`)
    return new HubError('invalid_token', `the token's "${claim}" claim is not valid (${error.message})`)
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new HubError('invalid_token', `the token's algorithm ${shown(headerAlg(token))} is not accepted: this server's key allows ${context.keys.algorithms.join(', ')}`)
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new HubError('invalid_token', 'the token\'s signature does not verify with this server\'s key')
  if (error instanceof errors.JWKSNoMatchingKey) return new HubError('invalid_token', 'no key of the configured JWKS matches the token\'s "kid" and algorithm')
  if (error instanceof errors.JWKSMultipleMatchingKeys) return new HubError('invalid_token', 'several keys of the configured JWKS match the token: sign tokens with a "kid"')
  if (error instanceof errors.JOSEError) return new HubError('invalid_token', `the token is not a valid JWT: ${error.message}`)
  // jose raises TypeError when a key cannot be used for the token's algorithm (say, an RSA key
  // under 2048 bits in a JWKS); the token cannot be verified, which is the client's answer.
  if (error instanceof TypeError) return new HubError('invalid_token', `the token cannot be verified with this server's key (${error.message})`)
  return error
}

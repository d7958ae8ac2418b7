/**
 * A verified token's claims → its principal. The claim Herald reads:
 *
 *   "herald": { "publish": ["chat/**"], "subscribe": ["users/{sub}/**", "news/*"] }
 *
 * Strict, because a claim Herald misreads grants the wrong rights: `herald` is an object with only
 * `publish` and `subscribe`, each (optional) an array of at most `maxSelectors` selectors (topics.ts
 * syntax); anything else refuses the whole token (`invalid_token`) instead of being ignored. No
 * `herald` claim means no rights beyond `--public`. `{sub}` in a selector is the token's `sub`,
 * escaped into one literal segment (escapeSegment), so a `sub` can never add a segment or a wildcard.
 */
import { HubError } from '../hub/errors'
import { escapeSegment } from '../hub/escape'
import { parseSelector, type Selector } from '../hub/topics'
import { TokenPrincipal } from './principals'
import { SelectorRules } from './rules'

/** The placeholder for the token's subject in a claim's selector. */
export const SUB_PLACEHOLDER = '{sub}'

/** The rights a token grants, as its claim lists them (after `{sub}` expansion). */
export interface HeraldClaim {
  publish: Selector[]
  subscribe: Selector[]
}

const CLAIM_KEYS = ['publish', 'subscribe'] as const

/** A claim value for a message: JSON, at most 60 characters (a claim is not a secret, but keep errors short). */
function shown(value: unknown): string {
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function invalid(message: string): HubError {
  return new HubError('invalid_token', message)
}

/**
 * The token's `sub`: undefined when absent; a string otherwise (anything else is `invalid_token`).
 */
export function subjectOf(payload: Record<string, unknown>): string | undefined {
  const sub = payload.sub
  if (sub === undefined) return undefined
  if (typeof sub !== 'string') throw invalid('the token\'s "sub" claim must be a string')
  return sub
}

/**
 * `template` with every `{sub}` replaced by escapeSegment(`sub`). Throws `invalid_token` when the
 * template uses `{sub}` and the token has no usable `sub` (absent, empty, or not well-formed Unicode).
 */
export function expandSubject(template: string, sub: string | undefined): string {
  if (!template.includes(SUB_PLACEHOLDER)) return template
  if (sub === undefined || sub === '') throw invalid(`a selector uses ${SUB_PLACEHOLDER} but the token has no "sub" (or an empty one)`)
  let segment: string
  try {
    segment = escapeSegment(sub)
  } catch (error) {
    throw invalid(`the token's "sub" cannot be used in a topic: ${(error as Error).message}`)
  }
  // split/join, not replaceAll: a replacement string would give `$&` and friends a meaning.
  return template.split(SUB_PLACEHOLDER).join(segment)
}

/** Reads the `herald` claim (see the module comment). Throws `invalid_token` with the reason. */
export function parseHeraldClaim(value: unknown, sub: string | undefined, maxSelectors: number): HeraldClaim {
  if (value === undefined) return { publish: [], subscribe: [] }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`the token's "herald" claim must be an object such as {"subscribe": ["news/**"]}, got ${shown(value)}`)
  }
  for (const key of Object.keys(value)) {
    if (!(CLAIM_KEYS as readonly string[]).includes(key)) throw invalid(`the token's "herald" claim has an unknown field ${shown(key)}: only "publish" and "subscribe" are allowed`)
  }
  const claim = value as Record<string, unknown>
  return { publish: selectorList(claim.publish, 'publish', sub, maxSelectors), subscribe: selectorList(claim.subscribe, 'subscribe', sub, maxSelectors) }
}

function selectorList(list: unknown, name: string, sub: string | undefined, maxSelectors: number): Selector[] {
  if (list === undefined) return []
  if (!Array.isArray(list)) throw invalid(`herald.${name} must be an array of selectors, got ${shown(list)}`)
  if (list.length > maxSelectors) throw invalid(`herald.${name} has ${list.length} selectors; at most ${maxSelectors} are allowed (--jwt-max-selectors)`)
  return list.map((item, index) => {
    if (typeof item !== 'string') throw invalid(`herald.${name}[${index}] must be a string, got ${shown(item)}`)
    const source = expandSubject(item, sub)
    try {
      return parseSelector(source)
    } catch (error) {
      throw invalid(`herald.${name}[${index}] ${shown(item)} is not a valid selector: ${(error as Error).message}`)
    }
  })
}

/** What principalFromClaims needs besides the claims. */
export interface ClaimOptions {
  /** `--public`: what anyone may subscribe to. */
  publicRules: SelectorRules
  /** `--jwt-max-selectors`: most selectors in each list of the claim. */
  maxSelectors: number
  /** `--jwt-clock-tolerance`, in seconds: added to `exp` for `expiresAt`. */
  toleranceSeconds: number
}

/**
 * The principal of a token whose signature and time claims were checked: subject from `sub`,
 * rights from `herald`, `expiresAt` = (`exp` + tolerance) in milliseconds, the first moment the
 * token is refused as expired (undefined without `exp`). Throws `invalid_token`.
 */
export function principalFromClaims(payload: Record<string, unknown>, options: ClaimOptions): TokenPrincipal {
  const subject = subjectOf(payload)
  const claim = parseHeraldClaim(payload.herald, subject, options.maxSelectors)
  const exp = payload.exp
  const expiresAt = typeof exp === 'number' ? Math.ceil(exp + options.toleranceSeconds) * 1000 : undefined
  return new TokenPrincipal(subject, new SelectorRules(claim.publish), new SelectorRules(claim.subscribe), options.publicRules, expiresAt)
}

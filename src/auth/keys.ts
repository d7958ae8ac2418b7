/**
 * The keys tokens are verified with, and the algorithms each allows: the algorithm is pinned by the
 * key, never chosen by the token. `--jwt-secret` allows HS256/384/512 with that secret and nothing
 * else; `--jwt-key` (a public key PEM, or a JWKS) allows only its own family: RSA → RS256/384/512
 * and PS256/384/512 (an RSA-PSS key: PS* only), EC → the ES* of its curve (P-256 → ES256, P-384 →
 * ES384, P-521 → ES512), Ed25519 → EdDSA (also spelt Ed25519). So `alg: none`, an HS token checked
 * against a public key (the key-confusion attack) and any other family are refused before a key is
 * even looked at. Problems with the configured keys are ConfigErrors, raised at start.
 */
import { createPublicKey, type JsonWebKeyInput, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createLocalJWKSet, type FlattenedJWSInput, type JSONWebKeySet, type JWK, type JWSHeaderParameters } from 'jose'
import { ConfigError, MIN_SECRET_BYTES } from '../config'

/** The HMAC algorithms a `--jwt-secret` allows. */
export const HS_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const
export type HsAlgorithm = (typeof HS_ALGORITHMS)[number]


/** Smallest RSA modulus accepted, in bits (jose refuses smaller ones for RS and PS algorithms). */
const MIN_RSA_BITS = 2048

const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
const PSS_ALGORITHMS = ['PS256', 'PS384', 'PS512']
const EDDSA_ALGORITHMS = ['EdDSA', 'Ed25519']
/** OpenSSL curve names (KeyObject) and JWK names, to the one ES algorithm each allows. */
const CURVE_ALGORITHMS: Record<string, string> = { prime256v1: 'ES256', 'P-256': 'ES256', secp384r1: 'ES384', 'P-384': 'ES384', secp521r1: 'ES512', 'P-521': 'ES512' }
/** JWK members that only private or symmetric keys have. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv']

const encoder = new TextEncoder()

/** A key jose can verify with. */
type VerifyKey = KeyObject | CryptoKey | Uint8Array

/** The configured keys: what jose's `algorithms` is pinned to, and the key for a token's header. */
export interface VerificationKeys {
  /** Every algorithm a token may name; any other is refused before its signature is checked. */
  readonly algorithms: readonly string[]
  /** jose's key resolver: the secret for HS*, the public key (or the JWKS's matching key) otherwise. */
  keyFor(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<VerifyKey>
}

/** The secret's bytes; ConfigError (never showing the secret) when it is shorter than MIN_SECRET_BYTES. */
export function secretBytes(secret: string | Uint8Array): Uint8Array {
  const bytes = typeof secret === 'string' ? encoder.encode(secret) : secret
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new ConfigError(`the JWT secret is ${bytes.length} bytes; it must be at least ${MIN_SECRET_BYTES} (e.g. openssl rand -base64 48)`)
  }
  return bytes
}

/** An asymmetric key source: one public key, or a JWKS. */
interface PublicKeys {
  algorithms: string[]
  keyFor(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<VerifyKey>
}

/**
 * The verification keys of `--jwt-secret` and `--jwt-key` ('' = not set), or undefined when neither
 * is set. Both may be set: HS tokens are checked with the secret, the others with the key. Reads
 * the key file now. Throws ConfigError naming the option.
 */
export function loadVerificationKeys(secret: string | Uint8Array, key: string): VerificationKeys | undefined {
  const hmac = secret.length > 0 ? withOption('--jwt-secret', () => secretBytes(secret)) : undefined
  const publicKeys = key.length > 0 ? withOption('--jwt-key', () => loadPublicKeys(key)) : undefined
  if (!hmac && !publicKeys) return undefined
  const algorithms = [...(hmac ? HS_ALGORITHMS : []), ...(publicKeys?.algorithms ?? [])]
  return {
    algorithms,
    keyFor: async (header, token) => {
      // jose has already refused an alg outside `algorithms`; HS* only ever gets the secret.
      if (hmac && typeof header.alg === 'string' && (HS_ALGORITHMS as readonly string[]).includes(header.alg)) return hmac
      if (!publicKeys) throw new TypeError('no public key for this algorithm')
      return publicKeys.keyFor(header, token)
    },
  }
}

function withOption<T>(flag: string, load: () => T): T {
  try {
    return load()
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${flag}: ${error.message}`)
    throw error
  }
}

/** `--jwt-key`: the key itself when it starts like a PEM or JSON (handy in an env var), else a file path. */
function loadPublicKeys(value: string): PublicKeys {
  const trimmed = value.trim()
  const inline = trimmed.startsWith('-----BEGIN') || trimmed.startsWith('{')
  let text = trimmed
  if (!inline) {
    try {
      text = readFileSync(trimmed, 'utf8').trim()
    } catch (error) {
      const code = (error as { code?: string }).code
      throw new ConfigError(`cannot read ${JSON.stringify(trimmed)}${code === 'ENOENT' ? ': no such file' : code ? ` (${code})` : ''}; give the path of a public key PEM or a JWKS JSON file`)
    }
  }
  if (text.startsWith('{')) return jwksKeys(text)
  if (text.startsWith('-----BEGIN')) return pemKey(text)
  throw new ConfigError('expected a public key PEM (-----BEGIN PUBLIC KEY-----) or a JWKS JSON file ({"keys": [...]})')
}

function pemKey(pem: string): PublicKeys {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new ConfigError('this is a PRIVATE key: Herald only verifies tokens, so give it the public key (openssl pkey -in private.pem -pubout -out public.pem) and keep the private key with whatever signs the tokens')
  }
  if ((pem.match(/-----BEGIN /g) ?? []).length > 1) throw new ConfigError('the PEM holds several keys; give one public key, or several in a JWKS file (each with a "kid")')
  let key: KeyObject
  try {
    key = createPublicKey(pem)
  } catch (error) {
    throw new ConfigError(`not a usable public key PEM (${(error as Error).message})`)
  }
  const algorithms = algorithmsOf(key, undefined)
  return { algorithms, keyFor: async () => key }
}

/** The algorithms a public key allows (see the module comment); `alg` narrows it to one (a JWK's `alg`). */
function algorithmsOf(key: KeyObject, alg: string | undefined): string[] {
  const details = key.asymmetricKeyDetails
  let family: string[]
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      if ((details?.modulusLength ?? 0) < MIN_RSA_BITS) throw new ConfigError(`the RSA key has ${details?.modulusLength ?? '?'} bits; at least ${MIN_RSA_BITS} are required`)
      family = key.asymmetricKeyType === 'rsa' ? RSA_ALGORITHMS : PSS_ALGORITHMS
      break
    case 'ec': {
      const es = CURVE_ALGORITHMS[details?.namedCurve ?? '']
      if (!es) throw new ConfigError(`the EC key's curve ${details?.namedCurve ?? '?'} is not supported; use P-256 (ES256), P-384 (ES384) or P-521 (ES512)`)
      family = [es]
      break
    }
    case 'ed25519':
      family = EDDSA_ALGORITHMS
      break
    default:
      throw new ConfigError(`a ${key.asymmetricKeyType ?? 'unknown'} key cannot verify JWTs here; use an RSA (2048 bits or more), EC (P-256, P-384, P-521) or Ed25519 key`)
  }
  if (alg === undefined) return family
  if (!family.includes(alg)) throw new ConfigError(`"alg" ${JSON.stringify(alg)} does not fit the key (${family.join(', ')})`)
  return [alg]
}

function jwksKeys(json: string): PublicKeys {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch (error) {
    throw new ConfigError(`the JWKS is not valid JSON (${(error as Error).message})`)
  }
  const list = isObject(parsed) && Array.isArray(parsed.keys) ? parsed.keys : isObject(parsed) && typeof parsed.kty === 'string' ? [parsed] : undefined
  if (!list) throw new ConfigError('a JWKS must be {"keys": [ ... ]} (or a single JWK)')
  const keys: JWK[] = []
  const algorithms = new Set<string>()
  list.forEach((jwk: unknown, index: number) => {
    const where = `key ${index + 1} of the JWKS${isObject(jwk) && typeof jwk.kid === 'string' ? ` (kid ${JSON.stringify(jwk.kid.slice(0, 40))})` : ''}`
    if (!isObject(jwk)) throw new ConfigError(`${where} is not an object`)
    // Encryption keys share JWKS documents with signing keys; they verify nothing.
    if (jwk.use === 'enc') return
    if (jwk.kty === 'oct') throw new ConfigError(`${where} is a symmetric ("oct") key: put an HMAC secret in --jwt-secret instead`)
    const secret = PRIVATE_MEMBERS.find((member) => member in jwk)
    if (secret) throw new ConfigError(`${where} holds private key material ("${secret}"): publish only the public members`)
    if (jwk.alg !== undefined && typeof jwk.alg !== 'string') throw new ConfigError(`${where} has a non-string "alg"`)
    let key: KeyObject
    try {
      key = createPublicKey({ key: jwk, format: 'jwk' } as JsonWebKeyInput)
    } catch (error) {
      throw new ConfigError(`${where} is not a usable public key (${(error as Error).message})`)
    }
    let allowed: string[]
    try {
      allowed = algorithmsOf(key, jwk.alg as string | undefined)
    } catch (error) {
      throw new ConfigError(`${where}: ${(error as Error).message}`)
    }
    for (const alg of allowed) algorithms.add(alg)
    keys.push(jwk as JWK)
  })
  if (keys.length === 0) throw new ConfigError('the JWKS has no signature key')
  const set = createLocalJWKSet({ keys } as JSONWebKeySet)
  return { algorithms: [...algorithms], keyFor: (header, token) => set(header, token) }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The client's side of tokens: where a `connect()` gets the token it sends (`ConnectOptions.token`),
 * and when it should get a fresh one. The client never verifies a token (the server does); it only
 * reads `exp` from the payload to refresh in time.
 */
import { asHeraldError, HeraldError } from './errors'
import type { TokenOption } from './types'

/** Gets the token to send now. Rejects with a HeraldError (what the token function threw, as one). */
export type Tokens = () => Promise<string>

/** `ConnectOptions.token` as a function called at every use; undefined without one. */
export function tokens(option: TokenOption | undefined): Tokens | undefined {
  if (option === undefined) return undefined
  return async () => {
    let token: unknown
    try {
      token = typeof option === 'function' ? await option() : option
    } catch (error) {
      throw asHeraldError(error)
    }
    if (typeof token !== 'string' || !token) throw new HeraldError('invalid_token', 'the token option gave no token (expected a non-empty string)')
    return token
  }
}

/** The token's `exp` in milliseconds since the epoch, read from its payload without verifying it; undefined when it has none. */
export function expiry(token: string): number | undefined {
  try {
    const exp = JSON.parse(atob((token.split('.')[1] as string).replace(/-/g, '+').replace(/_/g, '/'))).exp
    return typeof exp === 'number' ? exp * 1000 : undefined
  } catch {}
}

/**
 * Milliseconds from `now` until a token expiring at `at` should be replaced: 30 s before it
 * expires, or a quarter of its remaining life before when that is shorter (a short-lived token
 * still gets time to be replaced). Early, because the two clocks may differ and a fresh token takes
 * a request to get.
 */
export const refreshDelay = (at: number, now = Date.now()): number => Math.max(0, at - now - Math.min(30_000, (at - now) / 4))

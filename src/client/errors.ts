import type { HeraldErrorCode } from './types'

/** A failure the server reported (its code and HTTP status) or the client met (status 0). */
export class HeraldError extends Error {
  constructor(
    /** Stable: switch on it. The server's codes are listed in the README's error table. */
    readonly code: HeraldErrorCode,
    message: string,
    /** The HTTP status, or 0 when there was none (a WebSocket `error`, a network failure). */
    readonly status = 0,
  ) {
    super(message)
    this.name = 'HeraldError'
  }
}

/**
 * Codes that mean "not now": the server is at a limit, stopping, or its store failed (over HTTP
 * these are the 503 and 429 codes; test/client/errors.test.ts checks the list against the
 * server's table), or no proper answer came.
 */
export const LATER_CODES: readonly HeraldErrorCode[] = ['too_many_connections', 'too_many_subscriptions', 'shutting_down', 'store_unavailable', 'rate_limited', 'network_error', 'bad_response']

/**
 * True when trying again may succeed: a subscription retries these and ends on any other. A 4xx
 * other than 408 and 429 never succeeds by waiting (a bad selector, a bad id, a wrong URL).
 */
export const retryable = ({ status, code }: HeraldError): boolean => status >= 500 || status === 429 || status === 408 || (status < 400 && LATER_CODES.includes(code))

/** Any thrown value as a HeraldError (`fetch` and sockets throw TypeErrors and DOMExceptions). */
export const asHeraldError = (error: unknown): HeraldError =>
  error instanceof HeraldError ? error : new HeraldError('network_error', error instanceof Error ? error.message : String(error))

/** Reads at most `max` characters of a body, then lets the rest go (a hostile server cannot make the client hold more). */
export async function readText(response: Response, max = 65_536): Promise<string> {
  const reader = response.body?.getReader()
  if (!reader) return ''
  const decoder = new TextDecoder()
  let text = ''
  try {
    while (text.length <= max) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
  } finally {
    reader.cancel().catch(() => {})
  }
  return text
}

/** The HeraldError an HTTP error answer carries (`{"error": {"code", "message"}}`), or `bad_response`. */
export async function responseError(response: Response): Promise<HeraldError> {
  const text = await readText(response).catch(() => '')
  let body: { error?: { code?: unknown; message?: unknown } } | undefined
  try {
    body = JSON.parse(text)
  } catch {}
  const { code, message } = body?.error ?? {}
  if (typeof code === 'string' && typeof message === 'string') return new HeraldError(code as HeraldErrorCode, message, response.status)
  return new HeraldError('bad_response', `HTTP ${response.status} without a Herald error body`, response.status)
}

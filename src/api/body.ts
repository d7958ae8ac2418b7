import { HubError } from '../hub/errors'
import { mediaType, readLimitedBytes } from './request-body'

/**
 * Reads a publish body with a hard size limit (checked against Content-Length first, then while
 * streaming, so an oversized or lying client never makes us buffer more than `limit` bytes) and
 * turns it into a value by content type:
 * - `application/json` (and `*+json`): the parsed JSON;
 * - `text/plain`: `{ data: <the text> }`;
 * - `application/x-www-form-urlencoded`: the form fields as an object (so an HTML form can post).
 */
export async function readPublishBody(request: Request, limit: number): Promise<unknown> {
  const type = mediaType(request)
  const text = await readText(request, limit)
  if (text.trim() === '') throw new HubError('empty_body', 'the body is empty: send {"data": ...} as JSON, or text/plain')
  if (type === 'application/json' || type.endsWith('+json') || type === '') {
    try {
      return JSON.parse(text)
    } catch (error) {
      throw new HubError('malformed_json', `the body is not valid JSON: ${(error as Error).message}`)
    }
  }
  if (type === 'text/plain') return { data: text }
  if (type === 'application/x-www-form-urlencoded') {
    const fields = Object.fromEntries(new URLSearchParams(text))
    if (fields.data === undefined) {
      throw new HubError('invalid_data', 'the form has no "data" field (to send raw text, use content-type: text/plain)')
    }
    return fields
  }
  throw new HubError('unsupported_media_type', `content-type "${type}" is not supported: use application/json, text/plain or application/x-www-form-urlencoded`)
}

function tooLarge(limit: number): HubError {
  return new HubError('payload_too_large', `the body is larger than the limit of ${limit} bytes`)
}

async function readText(request: Request, limit: number): Promise<string> {
  const bytes = await readLimitedBytes(request, limit)
  if (bytes === undefined) throw tooLarge(limit)
  // fatal: invalid UTF-8 is a client error, not something to store as U+FFFD.
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new HubError('invalid_data', 'the body is not valid UTF-8')
  }
}

import { HubError } from '../hub/errors'
import { MESSAGE_SIZE_OPTION } from '../hub/event'
import { mediaType, readLimitedBytes } from './request-body'

/**
 * Reads a publish body with a hard size limit (checked against Content-Length first, then while
 * streaming, so an oversized or lying client never makes us buffer more than `limit` bytes) and
 * turns it into a value by content type:
 * - `application/json` (and `*+json`): the parsed JSON;
 * - `text/plain`: `{ data: <the text> }`;
 * - `application/x-www-form-urlencoded`: the form fields as an object (so an HTML form can post);
 *   `private` becomes a boolean (a checkbox's `on`, `true`/`1`; `false`/`0`/empty).
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
  if (type === 'application/x-www-form-urlencoded') return formFields(text)
  throw new HubError('unsupported_media_type', `content-type "${type}" is not supported: use application/json, text/plain or application/x-www-form-urlencoded`)
}

/**
 * A form's fields as an object. A field given twice is refused (one value would be dropped), and
 * so is a form without `data`; any other unknown field is refused by the route, by name.
 */
function formFields(text: string): Record<string, string | boolean> {
  // No prototype: a field named `__proto__` stays a field (and is refused as unknown) instead of
  // hitting Object.prototype's setter and vanishing.
  const fields: Record<string, string | boolean> = Object.create(null)
  for (const [name, value] of new URLSearchParams(text)) {
    if (Object.hasOwn(fields, name)) throw new HubError('invalid_message', `the form field ${JSON.stringify(name.slice(0, 64))} is given twice: send each field once`)
    fields[name] = name === 'private' ? formFlag(value) : value
  }
  // Checked before unknown fields: `curl -d 'Hello'` sends a form whose one field is "Hello".
  if (fields.data === undefined) {
    const names = Object.keys(fields).map((name) => JSON.stringify(name.slice(0, 64)))
    const has = names.length > 0 ? `; it has ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}` : ''
    throw new HubError('invalid_data', `the form has no "data" field${has} (to send raw text, use content-type: text/plain)`)
  }
  return fields
}

/** A form's `private` field: a checkbox sends `on`; `true`/`1` and `false`/`0`/empty are accepted too. */
function formFlag(value: string): boolean {
  const text = value.trim().toLowerCase()
  if (text === 'on' || text === 'true' || text === '1') return true
  if (text === '' || text === 'off' || text === 'false' || text === '0') return false
  throw new HubError('invalid_message', `the form field "private" must be true or false (or a checkbox), not ${JSON.stringify(value.slice(0, 64))}`)
}

function tooLarge(limit: number): HubError {
  return new HubError('payload_too_large', `the body is larger than the limit of ${limit} bytes (set by ${MESSAGE_SIZE_OPTION})`)
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

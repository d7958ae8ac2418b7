import { mediaType, readLimitedBytes } from '../../api/request-body'

/** Longest post, in characters (Unicode code points). */
export const POST_MAX_CHARS = 500

/** Largest form body read at all; anything bigger is refused before it is buffered. */
const BODY_LIMIT_BYTES = 16 * 1024

/** A posted message: the text to store, or why it was refused (with the HTTP status and the text to give back). */
export type PostForm = { ok: true; text: string } | { ok: false; status: 400 | 413 | 415; error: string; text: string }

/**
 * Reads `message` from an `application/x-www-form-urlencoded` body (what htmx and a plain form
 * send). The text is trimmed and its line breaks made LF. Empty → 400; over POST_MAX_CHARS → 413
 * with the text kept, so the form can show it again for editing.
 */
export async function readPostForm(request: Request): Promise<PostForm> {
  if (mediaType(request) !== 'application/x-www-form-urlencoded') {
    return { ok: false, status: 415, error: 'Send the message as a form (application/x-www-form-urlencoded).', text: '' }
  }
  const bytes = await readLimitedBytes(request, BODY_LIMIT_BYTES)
  if (bytes === undefined) return { ok: false, status: 413, error: `That message is far too long: the limit is ${POST_MAX_CHARS} characters.`, text: '' }
  const text = (new URLSearchParams(new TextDecoder().decode(bytes)).get('message') ?? '').replace(/\r\n?/g, '\n').trim()
  if (text === '') return { ok: false, status: 400, error: 'Write something first: the message is empty.', text }
  const length = [...text].length
  if (length > POST_MAX_CHARS) {
    return { ok: false, status: 413, error: `That message is ${length} characters; the limit is ${POST_MAX_CHARS}. Shorten it and post again.`, text }
  }
  return { ok: true, text }
}

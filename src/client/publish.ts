import { asHeraldError, HeraldError, readText, responseError } from './errors'
import type { Settings } from './settings'
import type { Published, PublishOptions } from './types'

/** The `Authorization` header for a token, if there is one. */
export const bearer = (token: string | undefined): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {})

/**
 * `POST {base}/publish` with one event. The body rather than the path names the topic, so no topic
 * is ever rewritten by URL normalisation (a segment `..` is a valid topic segment). Never retried:
 * a publish that failed on the way back may have happened. The one exception: a `401
 * token_expired` (refused before the body is read, so nothing was published) is sent once more
 * with a fresh token.
 */
export async function publish({ base, token }: Settings, topic: string, data: unknown, { signal, ...fields }: PublishOptions = {}): Promise<Published> {
  if (data === undefined) throw new HeraldError('invalid_data', 'publish(topic, data): data is required (a string or any JSON value)')
  let response: Response
  for (let renewed = false; ; renewed = true) {
    const headers = { 'content-type': 'application/json', ...bearer(await token?.()) }
    try {
      response = await fetch(`${base}/publish`, { method: 'POST', headers, body: JSON.stringify({ topic, data, ...fields }), signal })
    } catch (error) {
      throw asHeraldError(error)
    }
    if (response.ok) break
    const error = await responseError(response)
    if (renewed || !token || error.code !== 'token_expired') throw error
  }
  let body: { events?: unknown } | undefined
  try {
    body = JSON.parse(await readText(response))
  } catch {}
  const event = Array.isArray(body?.events) ? (body.events[0] as Partial<Published> | undefined) : undefined
  if (typeof event?.id !== 'string' || typeof event.topic !== 'string') throw new HeraldError('bad_response', `${base}/publish did not answer with the published event`, response.status)
  return { id: event.id, topic: event.topic }
}

import { asHeraldError, HeraldError, readText, responseError } from './errors'
import type { Published, PublishOptions } from './types'

/**
 * `POST {base}/publish` with one event. The body rather than the path names the topic, so no topic
 * is ever rewritten by URL normalisation (a segment `..` is a valid topic segment). Never retried:
 * a publish that failed on the way back may have happened.
 */
export async function publish(base: string, topic: string, data: unknown, { signal, ...fields }: PublishOptions = {}): Promise<Published> {
  if (data === undefined) throw new HeraldError('invalid_data', 'publish(topic, data): data is required (a string or any JSON value)')
  let response: Response
  try {
    response = await fetch(`${base}/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic, data, ...fields }), signal })
  } catch (error) {
    throw asHeraldError(error)
  }
  if (!response.ok) throw await responseError(response)
  let body: { events?: unknown } | undefined
  try {
    body = JSON.parse(await readText(response))
  } catch {}
  const event = Array.isArray(body?.events) ? (body.events[0] as Partial<Published> | undefined) : undefined
  if (typeof event?.id !== 'string' || typeof event.topic !== 'string') throw new HeraldError('bad_response', `${base}/publish did not answer with the published event`, response.status)
  return { id: event.id, topic: event.topic }
}

import { HubError } from '../hub/errors'

/**
 * The numeric `Last-Event-ID` a reconnecting client sends (EventSource puts it in the header; the
 * `lastEventId` query parameter is the fallback for a first connect). Undefined when absent or
 * empty; anything but a whole number from 0 to 2^53 - 1 is `invalid_last_event_id` (400).
 */
export function sequenceResume(request: Request): number | undefined {
  const text = request.headers.get('last-event-id') ?? new URL(request.url).searchParams.get('lastEventId') ?? ''
  if (text === '') return undefined
  const value = Number(text)
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(value)) {
    throw new HubError('invalid_last_event_id', `this stream's event ids are whole numbers; got ${JSON.stringify(text.slice(0, 40))}`)
  }
  return value
}

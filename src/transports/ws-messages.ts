/**
 * What a WebSocket client may send: each message type and the fields it may carry. A message with
 * any other field is refused (`unknown_field`), so a typo such as `lastEventid` is an error rather
 * than a subscribe that silently starts from now.
 */
import { HubError } from '../hub/errors'
import { PUBLISH_FIELDS } from '../hub/event'
import { refuseUnknownFields } from '../hub/fields'

/**
 * The fields of each client message type. `ref` is echoed on the reply. `topic` (one selector) is
 * accepted beside `topics` in subscribe and unsubscribe: older clients send it, and `?topic=` on
 * the upgrade and `topic` in publish make it the name people try first.
 */
export const CLIENT_MESSAGE_FIELDS = {
  subscribe: ['type', 'topics', 'topic', 'lastEventId', 'ref'],
  unsubscribe: ['type', 'topics', 'topic', 'ref'],
  publish: ['type', ...PUBLISH_FIELDS, 'ref'],
  /** Authenticates a socket that connected without a token, or refreshes an expiring one (same `sub`). */
  auth: ['type', 'token', 'ref'],
  ping: ['type', 'ref'],
} as const satisfies Record<string, readonly string[]>

/** A client message type. */
export type ClientMessageType = keyof typeof CLIENT_MESSAGE_FIELDS

const TYPES = Object.keys(CLIENT_MESSAGE_FIELDS) as ClientMessageType[]
const TYPE_LIST = `${TYPES.slice(0, -1).join(', ')} or ${TYPES[TYPES.length - 1]}`

/**
 * The message's type, once its `type` and every field are known: `unknown_type` for a missing,
 * non-string or unknown type, `unknown_field` for any field its type does not have, and
 * `invalid_message` for both `topics` and `topic` (one would be ignored).
 */
export function clientMessageType(message: Record<string, unknown>): ClientMessageType {
  const { type } = message
  if (typeof type !== 'string') throw new HubError('unknown_type', `a message needs a "type": ${TYPE_LIST}`)
  if (!Object.hasOwn(CLIENT_MESSAGE_FIELDS, type)) {
    const shown = JSON.stringify(type.length > 64 ? `${type.slice(0, 64)}…` : type)
    throw new HubError('unknown_type', `unknown message type ${shown}: use ${TYPE_LIST}`)
  }
  const known = type as ClientMessageType
  refuseUnknownFields(message, CLIENT_MESSAGE_FIELDS[known], `a ${known} message`)
  if (message.topics !== undefined && message.topic !== undefined && known !== 'publish') {
    throw new HubError('invalid_message', `give "topics" or "topic" in a ${known} message, not both`)
  }
  return known
}

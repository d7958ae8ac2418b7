/**
 * Every failure the hub reports to a client. `code` is stable (clients may switch on it);
 * `message` is for humans. The HTTP edge maps a code to a status once, in api/errors.ts.
 */
export type HubErrorCode =
  | 'invalid_topic'
  | 'invalid_selector'
  | 'invalid_event'
  | 'invalid_id'
  | 'id_not_increasing'
  | 'invalid_last_event_id'
  | 'invalid_data'
  | 'invalid_message'
  | 'unknown_field'
  | 'malformed_json'
  | 'empty_body'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_topics'
  | 'unknown_type'
  | 'method_not_allowed'
  | 'not_found'
  | 'store_unavailable'
  | 'too_many_connections'
  | 'too_many_subscriptions'
  | 'rate_limited'
  | 'shutting_down'

export class HubError extends Error {
  constructor(
    readonly code: HubErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'HubError'
  }

  /** The JSON body every error response and WebSocket `error` message carries. */
  toJSON(): { code: HubErrorCode; message: string } {
    return { code: this.code, message: this.message }
  }
}

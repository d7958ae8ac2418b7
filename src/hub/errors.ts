/**
 * Every error code a client can receive, over HTTP (the JSON body's `code`) or as a WebSocket
 * `error` message, with the HTTP status it is sent with: the one list. `code` is stable (clients
 * may switch on it); a code not in this table does not compile (HubErrorCode, api/errors.ts
 * `errorBody`), and test/hub/errors.test.ts checks that every code sent in src/ is here and in the
 * README's error table. Over WebSocket the status is not sent; the connection stays open.
 */
export const ERROR_STATUS = {
  // The request is malformed.
  invalid_topic: 400,
  invalid_selector: 400,
  invalid_event: 400,
  invalid_id: 400,
  invalid_last_event_id: 400,
  invalid_data: 400,
  invalid_message: 400,
  unknown_field: 400,
  malformed_json: 400,
  empty_body: 400,
  too_many_topics: 400,
  unknown_type: 400,
  /** A body or query that does not match a route's schema (Elysia's validation). */
  invalid_request: 400,
  /** No token where one is needed (publishing, or subscribing beyond `--public`): 401 with `WWW-Authenticate: Bearer`. */
  missing_token: 401,
  /** A token that is malformed, badly signed, of the wrong algorithm, issuer or audience, or whose claims are malformed. */
  invalid_token: 401,
  /** A token past its `exp` (or before its `nbf`), beyond the clock tolerance. */
  token_expired: 401,
  /** The principal may not publish to a topic of the batch, or subscribe with a selector: its token does not cover it. */
  forbidden_topic: 403,
  /** A WebSocket upgrade or cookie-authenticated request from an origin not in `--allowed-origins`. */
  forbidden_origin: 403,
  /** No key is configured and the publish does not come from this machine (loopback); `--dev` lifts it. */
  loopback_only: 403,
  /** No route has that path. */
  not_found: 404,
  /** The path exists for other methods (the `Allow` header lists them). */
  method_not_allowed: 405,
  id_not_increasing: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** `GET /ws` without a WebSocket upgrade. */
  upgrade_required: 426,
  rate_limited: 429,
  /** A bug: logged, and the client learns nothing more. */
  internal_error: 500,
  shutting_down: 503,
  store_unavailable: 503,
  too_many_connections: 503,
  too_many_subscriptions: 503,
  // The demos (src/demos): the heartbeat's ?interval=, the chat's name claims and room history.
  invalid_interval: 400,
  invalid_name: 400,
  invalid_key: 400,
  name_taken: 409,
  not_subscribed: 409,
} as const satisfies Record<string, number>

/** A code from ERROR_STATUS. */
export type HubErrorCode = keyof typeof ERROR_STATUS

/**
 * Every failure the hub reports to a client. `message` is for humans. The HTTP edge sends it with
 * `ERROR_STATUS[code]` (api/errors.ts).
 */
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

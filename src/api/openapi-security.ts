/**
 * How Herald's operations declare tokens in the OpenAPI document, so Swagger UI shows the Authorize
 * button and sends a pasted token as `Authorization: Bearer …` to exactly the operations that read
 * one (and shows no lock on /healthz or the demos). The scheme is declared by the standalone
 * server's document (docs.ts); the operations list it themselves.
 */

/** The name operations refer to the scheme by. */
export const BEARER = 'bearer'

/** How a client proves who it is (see "Auth" in the README). */
export const BEARER_SCHEME = {
  type: 'http',
  scheme: 'bearer',
  bearerFormat: 'JWT',
  description:
    'A token whose claims cover the topics (`herald token` or `signToken` makes one). Needed to publish when a key is configured, and to subscribe beyond --public. Browsers may also send it as the herald_token cookie or ?access_token=.',
} as const

/** A publish operation: a bearer token whose claims cover every topic (with no key configured, the loopback rule decides instead). */
export const PUBLISH_SECURITY: Array<Record<string, string[]>> = [{ [BEARER]: [] }]

/** A subscribe operation: a bearer token, or none for topics within --public (and with no key configured). */
export const SUBSCRIBE_SECURITY: Array<Record<string, string[]>> = [{ [BEARER]: [] }, {}]

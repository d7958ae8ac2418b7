import { HubError } from '../hub/errors'
import { errorBody, STATUS_BY_CODE } from './errors'

/**
 * A HubError that a host app's route lets through answers like Herald's own routes do: its HTTP
 * status and `{"error": {"code", "message"}}` (Elysia 1.4.30 reads an error's `status` and
 * `toResponse()`), not Elysia's 500 with the error's name. The app's own onError hooks still run
 * first and may answer otherwise. Still `instanceof HubError`, with the same `code`.
 */
export class HeraldHttpError extends HubError {
  /** The status Herald's HTTP API gives this code (api/errors.ts). */
  get status(): number {
    return STATUS_BY_CODE[this.code]
  }

  toResponse(): Response {
    return Response.json(errorBody(this.code, this.message), { status: this.status })
  }
}

/** `error` as a HeraldHttpError when it is a HubError; anything else as it is. For what `herald.*` throws into host routes. */
export function forHost(error: unknown): unknown {
  if (!(error instanceof HubError) || error instanceof HeraldHttpError) return error
  const answer = new HeraldHttpError(error.code, error.message)
  answer.stack = error.stack
  return answer
}

import { findToken } from '../../auth/carriers'
import type { AuthPrincipal, Authenticator } from '../../auth/types'
import { HubError } from '../../hub/errors'
import { parseSelector } from '../../hub/topics'
import type { ChatDirectory } from './directory'
import { CHAT_NAME, claimTopic } from './topics'

/** Who called a chat route: the principal of their token, and the name it gives them. */
export interface ChatCaller {
  principal: AuthPrincipal
  /** The token's `sub`: the `from` of everything the server publishes for them. */
  name: string
}

/**
 * The token of a chat request, from its `Authorization: Bearer` header only: never a cookie (a
 * foreign page could make the browser send one along with a POST) and never the URL (it would end
 * up in logs). Undefined when the request carries none.
 */
function headerToken(request: Request): string | undefined {
  const found = findToken(request)
  return found?.carrier === 'header' ? found.token : undefined
}

/**
 * The principal a chat read sees with: the header's token, or anonymous without one (the no-key
 * rules, or `--public` with a key). Throws `invalid_token` / `token_expired` for a bad token.
 */
export async function chatReader(request: Request, auth: Authenticator): Promise<AuthPrincipal> {
  const token = headerToken(request)
  return token === undefined ? auth.anonymous() : auth.verify(token)
}

/**
 * Who is calling a chat route that acts for someone (send, join, leave). Refused with
 * - `missing_token` (401) without a token in the header, `invalid_token` / `token_expired` (401)
 *   for a bad one;
 * - `invalid_name` (400) when the token's `sub` is not a chat name (1 to 24 of A-Z a-z 0-9 _ -);
 * - `name_taken` (409) when another page holds the name now: a name's tokens act for it only while
 *   their page holds it (a token minted for a page's claim key covers that key's claim topic), so
 *   a page that lost its name cannot go on speaking under it with the token it still has.
 */
export async function chatCaller(request: Request, auth: Authenticator, names: Pick<ChatDirectory, 'holder'> | undefined): Promise<ChatCaller> {
  const token = headerToken(request)
  if (token === undefined) throw new HubError('missing_token', 'the chat needs your token: POST /chat/token {"name", "key"} gives one; send it as "Authorization: Bearer <token>"')
  const principal = await auth.verify(token)
  const name = principal.subject
  if (name === undefined || !CHAT_NAME.test(name)) throw new HubError('invalid_name', 'the chat shows your token\'s "sub" as your name, so it must be 1 to 24 of A-Z a-z 0-9 _ -')
  const holder = await names?.holder(name)
  if (holder !== undefined && !principal.maySubscribe(parseSelector(claimTopic(holder)))) {
    throw new HubError('name_taken', `${name} is held by another page now; get a token for a name of your own`)
  }
  return { principal, name }
}

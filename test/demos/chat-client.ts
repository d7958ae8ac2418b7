/** The chat's HTTP side as a page (public/chat.js) uses it, for tests. */
import { expect } from 'bun:test'

/** `POST /chat/token` with `body` (usually `{name, key}`). */
export function requestToken(base: string, body: unknown): Promise<Response> {
  return fetch(`${base}/chat/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

/** A demo token for `name`, claimed with `key` (the request must succeed). */
export async function chatToken(base: string, name: string, key: string): Promise<{ token: string; expiresAt: number }> {
  const response = await requestToken(base, { name, key })
  expect(response.status).toBe(200)
  return (await response.json()) as { token: string; expiresAt: number }
}

/** A POST to a chat route with `token` in the Authorization header (none when undefined). */
export function chatPost(base: string, path: string, body: unknown = {}, token?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token !== undefined && { authorization: `Bearer ${token}` }), ...headers }, body: JSON.stringify(body) })
}

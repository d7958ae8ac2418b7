import { expect, test } from 'bun:test'
import { Glob } from 'bun'
import { HubError } from '../../src/hub/errors'
import { RESERVED_EVENT_NAMES, validatePublish } from '../../src/hub/event'

/** Every event name and WebSocket message type written by src/transports, read from the source. */
async function namesHeraldWrites(): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  for await (const file of new Glob('src/transports/**/*.ts').scan('.')) {
    const source = await Bun.file(file).text()
    // SSE: `event: reset\n` in a template, or `event: ${reason}` where reason is typed from a list.
    for (const match of source.matchAll(/event: ([A-Za-z0-9_.:-]+)\\n/g)) found.set(match[1] as string, file)
    // WebSocket: `{ type: 'pong' }` objects sent by the server, and `"type":"event"` written by hand.
    // (Schema objects such as `schema: { type: 'array' }` are OpenAPI, not messages.)
    for (const match of source.matchAll(/(?<!(?:schema|items): )\{\s*type: '([a-z_]+)'/g)) found.set(match[1] as string, file)
    for (const match of source.matchAll(/"type":"([a-z_]+)"/g)) found.set(match[1] as string, file)
  }
  return found
}

test('every event name and WebSocket message type Herald writes is reserved', async () => {
  const written = await namesHeraldWrites()
  // The scan sees the known names (so it is not vacuous) ...
  for (const name of ['reset', 'error', 'pong', 'event', 'subscribed', 'published']) expect(written.has(name)).toBe(true)
  // ... and each one it sees is reserved.
  const unreserved = [...written].filter(([name]) => !RESERVED_EVENT_NAMES.has(name)).map(([name, file]) => `${name} (${file})`)
  expect(unreserved).toEqual([])
  // `event: ${reason}` in sseClosing is typed from SSE_CONTROL_EVENTS; both values are reserved.
  for (const name of ['overflow', 'shutdown']) expect(RESERVED_EVENT_NAMES.has(name)).toBe(true)
})

/** `reset` → `reset`, `RESET`, `Reset`, `rESET`… */
function caseVariants(name: string): string[] {
  const title = name[0]?.toUpperCase() + name.slice(1)
  const alternating = [...name].map((c, i) => (i % 2 ? c.toUpperCase() : c)).join('')
  return [...new Set([name, name.toUpperCase(), title, alternating])]
}

test.each([...RESERVED_EVENT_NAMES].flatMap(caseVariants))('publishing the reserved event name %p is refused with invalid_event', (event) => {
  let error: unknown
  try {
    validatePublish({ topic: 'a', data: 1, event }, 0)
  } catch (caught) {
    error = caught
  }
  expect(error).toBeInstanceOf(HubError)
  expect((error as HubError).code).toBe('invalid_event')
  expect((error as HubError).message).toContain('reserved')
})

test('names close to reserved ones, and the default "message", are still publishable', () => {
  for (const event of ['message', 'resets', 'reset-password', 'errors', 'opened', 'shutdown.soon', 'pong2']) {
    expect(validatePublish({ topic: 'a', data: 1, event }, 0).event).toBe(event === 'message' ? undefined : event)
  }
})

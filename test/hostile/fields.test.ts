/**
 * Hostile field names, event names and methods, generated from a seed: every publish shape (JSON
 * and form bodies on /topics/{topic}, /publish one and batched, WebSocket publish) and every
 * WebSocket message type gets an extra or misspelt field (near misses of real fields, prototype
 * names, Unicode look-alikes, empty, long and control-character names) and must be refused with
 * `unknown_field` naming it; every reserved event name in any letter case must be refused with
 * `invalid_event`; every route gets methods it does not serve and must answer `405` with `Allow`.
 * Nothing may be published along the way: the harness's raw SSE stream must hold exactly the valid
 * events published between the cases, and /stats must count no other (harness.ts).
 */
import { expect, test } from 'bun:test'
import { WsClient } from '../helpers'
import { RawClient } from '../raw'
import { hostileServer } from './harness'
import { INJECTIONS, Rng, SAFE, SEED } from './prng'

const FIELD_CASES = 1500
const RESERVED_CASES = 300
const METHOD_CASES = 400

/** What each shape accepts, as README documents it (written here independently of src/). */
const SHAPES = {
  'POST /topics/{topic} JSON': ['data', 'event', 'id', 'private'],
  'POST /topics/{topic} form': ['data', 'event', 'id', 'private'],
  'POST /publish one': ['topic', 'data', 'event', 'id', 'private'],
  'POST /publish batch': ['topic', 'data', 'event', 'id', 'private'],
  'ws publish': ['type', 'topic', 'data', 'event', 'id', 'private', 'ref'],
  'ws subscribe': ['type', 'topics', 'topic', 'lastEventId', 'ref'],
  'ws unsubscribe': ['type', 'topics', 'topic', 'ref'],
  'ws auth': ['type', 'token', 'ref'],
  'ws ping': ['type', 'ref'],
} as const
type Shape = keyof typeof SHAPES

const REAL_FIELDS = [...new Set(Object.values(SHAPES).flat())]
const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isPrototypeOf', 'toJSON']
/** Latin letters and a character that looks the same (Cyrillic, Greek, Latin small capitals). */
const HOMOGLYPHS: Record<string, string[]> = { a: ['а', 'ɑ'], e: ['е', 'ҽ'], o: ['о', 'ο'], p: ['р', 'ρ'], c: ['с'], i: ['і', 'ı'], d: ['ԁ'], t: ['т', 'τ'], y: ['у'], s: ['ѕ'], I: ['Ι', 'І'], E: ['Е', 'Ε'] }
const INVISIBLE = ['\u200b', '\u200c', '\u200d', '\ufeff', '\u00ad', '\u2060', '\u0301']
/** Reserved names as README documents them: Herald's SSE notices, its WebSocket types, EventSource's own. */
const RESERVED = ['reset', 'overflow', 'shutdown', 'event', 'subscribed', 'unsubscribed', 'published', 'error', 'pong', 'open']

function nearMiss(rng: Rng, field: string): string {
  const at = rng.int(0, field.length - 1)
  switch (rng.int(0, 9)) {
    case 0:
      return field.slice(0, at) + field.slice(at + 1) // a letter dropped: evnt
    case 1:
      return field.slice(0, at) + rng.string(1, 'abcdefghijklmnopqrstuvwxyz') + field.slice(at) // one inserted
    case 2:
      return field.slice(0, at) + rng.string(1, 'abcdefghijklmnopqrstuvwxyz') + field.slice(at + 1) // one changed
    case 3:
      return at < field.length - 1 ? field.slice(0, at) + field[at + 1] + field[at] + field.slice(at + 2) : `${field}${field}` // swapped: daat
    case 4:
      return rng.pick([field.toUpperCase(), field[0]?.toUpperCase() + field.slice(1), field.toLowerCase(), [...field].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c)).join('')])
    case 5:
      return rng.pick([`${field}s`, field.endsWith('s') ? field.slice(0, -1) : `${field}es`, `${field}_`, `_${field}`, `$${field}`, `${field}[]`, `${field}.0`])
    case 6:
      return rng.pick([` ${field}`, `${field} `, `${field}\t`, `\n${field}`])
    case 7:
      return rng.pick(['last_event_id', 'lastEventID', 'LastEventId', 'last-event-id', 'lastEventid', 'last_id', 'eventName', 'event_name', 'name', 'payload', 'body', 'message', 'msg', 'channel', 'room', 'key', 'value', 'retry', 'ttl', 'private', 'headers'])
    case 8:
      return `${field}${rng.pick(INJECTIONS)}`
    default:
      return field + field.slice(at) // a stutter: dataata
  }
}

function lookAlike(rng: Rng, field: string): string {
  switch (rng.int(0, 3)) {
    case 0: {
      const positions = [...field].map((c, i) => (HOMOGLYPHS[c] ? i : -1)).filter((i) => i >= 0)
      if (positions.length === 0) return `${field}\u200b`
      const at = rng.pick(positions)
      return field.slice(0, at) + rng.pick(HOMOGLYPHS[field[at] as string] as string[]) + field.slice(at + 1)
    }
    case 1:
      // Fullwidth Latin (NFKC folds it back to ASCII).
      return [...field].map((c) => String.fromCharCode((c.codePointAt(0) as number) + 0xfee0)).join('')
    case 2: {
      const at = rng.int(0, field.length)
      return field.slice(0, at) + rng.pick(INVISIBLE) + field.slice(at)
    }
    default:
      return rng.pick([field.replace('i', 'İ'), field.replace('I', 'ı'), field.normalize('NFD') + '\u0308', `${field}\u0000`])
  }
}

/** A field name the shape does not have. */
function badName(rng: Rng, allowed: readonly string[]): string {
  for (;;) {
    let name: string
    switch (rng.int(0, 5)) {
      case 0:
      case 1:
        name = nearMiss(rng, rng.pick(REAL_FIELDS))
        break
      case 2:
        name = rng.pick(PROTOTYPE_NAMES)
        break
      case 3:
        name = lookAlike(rng, rng.pick(REAL_FIELDS))
        break
      case 4:
        // A field another shape has (ref over HTTP, topics in a publish, lastEventId in a publish).
        name = rng.pick(REAL_FIELDS)
        break
      default:
        name = rng.pick(['', ' ', 'x'.repeat(rng.int(65, 5000)), rng.string(rng.int(1, 12), SAFE), '🎉', '\u202edata', '0', '-1', 'null', 'undefined', '[object Object]'])
    }
    if (!allowed.includes(name) && name.isWellFormed()) return name
  }
}

const VALUES: unknown[] = ['x', '', 1, 0, null, true, false, { a: 1 }, [1], 'reset', 'hostile/other', '1-0']

function randomCase(rng: Rng, name: string): string {
  return [...name].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('')
}

interface HttpRequest {
  path: string
  contentType: string
  body: string
}

/** An HTTP publish of `shape` with `extra` added to one object (the only one, or one batch item). */
function httpPublish(rng: Rng, shape: Shape, extra: Record<string, unknown>): HttpRequest {
  const topic = `hostile/fields/${rng.string(rng.int(1, 6), SAFE)}`
  const base = { data: rng.pick(['fine', 1, { ok: true }]) }
  switch (shape) {
    case 'POST /topics/{topic} JSON':
      return { path: `/topics/${topic}`, contentType: 'application/json', body: JSON.stringify({ ...base, ...extra }) }
    case 'POST /topics/{topic} form': {
      const form = new URLSearchParams({ data: 'fine' })
      for (const [name, value] of Object.entries(extra)) form.append(name, typeof value === 'string' ? value : JSON.stringify(value))
      return { path: `/topics/${topic}`, contentType: 'application/x-www-form-urlencoded', body: form.toString() }
    }
    case 'POST /publish one':
      return { path: '/publish', contentType: 'application/json', body: JSON.stringify({ topic, ...base, ...extra }) }
    default: {
      const items: Record<string, unknown>[] = Array.from({ length: rng.int(1, 10) }, (_, i) => ({ topic: `${topic}/${i}`, data: i }))
      items.splice(rng.int(0, items.length), 0, { topic, ...base, ...extra })
      return { path: '/publish', contentType: 'application/json', body: JSON.stringify(items) }
    }
  }
}

/** A WebSocket message of `shape` with `extra` added. */
function wsMessage(shape: Shape, extra: Record<string, unknown>, ref: string): Record<string, unknown> {
  switch (shape) {
    case 'ws publish':
      return { type: 'publish', topic: 'hostile/fields/ws', data: 'fine', ...extra, ref }
    case 'ws subscribe':
      return { type: 'subscribe', topics: ['hostile/**'], ...extra, ref }
    case 'ws unsubscribe':
      return { type: 'unsubscribe', topics: ['hostile/**'], ...extra, ref }
    case 'ws auth':
      return { type: 'auth', token: 'not-a-token', ...extra, ref }
    default:
      return { type: 'ping', ...extra, ref }
  }
}

async function errorOf(response: Response): Promise<{ code?: string; message?: string } | string> {
  const text = await response.text()
  try {
    return (JSON.parse(text) as { error?: { code?: string; message?: string } }).error ?? `(no error: ${text.slice(0, 80)})`
  } catch {
    return `(not JSON: ${text.slice(0, 80)})`
  }
}

test(`${FIELD_CASES} unknown fields and ${RESERVED_CASES} reserved event names on every publish and message shape (seed ${SEED})`, async () => {
  const rng = new Rng(SEED ^ 0xf1e1d)
  const harness = await hostileServer()
  const ws = await WsClient.open(`${harness.server.wsBase}/ws`)
  const failures: string[] = []
  await harness.publishValid(rng)

  /** Sends one WebSocket message and returns the first message that comes back. */
  const wsReply = async (message: Record<string, unknown>) => {
    const before = ws.messages.length
    const answered = new Promise((resolve) => ws.socket.addEventListener('message', resolve, { once: true }))
    ws.send(message)
    await Promise.race([answered, Bun.sleep(5000)])
    return ws.messages[before]
  }

  const total = FIELD_CASES + RESERVED_CASES
  for (let n = 0; n < total; n++) {
    const reserved = n >= FIELD_CASES
    const shapes = (Object.keys(SHAPES) as Shape[]).filter((shape) => !reserved || !['ws subscribe', 'ws unsubscribe', 'ws auth', 'ws ping'].includes(shape))
    const shape = rng.pick(shapes)
    const name = reserved ? 'event' : badName(rng, SHAPES[shape])
    const value = reserved ? randomCase(rng, rng.pick(RESERVED)) : rng.pick(VALUES)
    const expected = reserved ? 'invalid_event' : 'unknown_field'
    const extra = { [name]: value }
    const label = `case #${n} (${shape}, ${JSON.stringify(name).slice(0, 40)}: ${JSON.stringify(value)})`
    // The error names the offending field (its first 64 characters) or the reserved name.
    const named = reserved ? `"${value as string}"` : JSON.stringify(name.slice(0, 30)).slice(0, -1)

    if (shape.startsWith('ws ')) {
      const ref = `r${n}`
      const reply = await wsReply(wsMessage(shape, extra, ref))
      if (reply?.type !== 'error' || reply.code !== expected || reply.ref !== ref || !String(reply.message).includes(named)) {
        failures.push(`${label} → ${JSON.stringify(reply).slice(0, 200)}; expected error ${expected} naming ${named}`)
      }
    } else {
      const request = httpPublish(rng, shape, extra)
      const response = await fetch(`${harness.server.base}${request.path}`, { method: 'POST', headers: { 'content-type': request.contentType }, body: request.body })
      const error = await errorOf(response)
      if (response.status !== 400 || typeof error === 'string' || error.code !== expected || !error.message?.includes(named)) {
        failures.push(`${label} → ${response.status} ${JSON.stringify(error).slice(0, 200)}; expected 400 ${expected} naming ${named}`)
      }
    }
    if (n % 25 === 0) {
      await harness.healthy(label)
      await harness.publishValid(rng)
    }
  }
  // The socket is still usable, and none of the refused subscribes took effect.
  expect(failures).toEqual([])
  expect((await wsReply({ type: 'ping', ref: 'last' }))?.type).toBe('pong')
  expect(ws.ofType('event')).toEqual([])
  ws.close()
  await harness.finish()
}, 60_000)

/** Every route, with the methods README documents for it (HEAD comes with GET). */
const ROUTES: { path: (rng: Rng) => string; allow: string[] }[] = [
  { path: (rng) => `/topics/hostile/${rng.string(rng.int(1, 8), SAFE)}`, allow: ['POST'] },
  { path: () => '/publish', allow: ['POST'] },
  { path: () => '/events?topic=hostile/a', allow: ['GET', 'HEAD'] },
  { path: () => '/ws', allow: ['GET', 'HEAD'] },
  { path: () => '/healthz', allow: ['GET', 'HEAD'] },
  { path: () => '/stats', allow: ['GET', 'HEAD'] },
  { path: () => '/swagger/json', allow: ['GET', 'HEAD'] },
  { path: () => '/streams/clock', allow: ['GET', 'HEAD'] },
  { path: () => '/feed/posts', allow: ['POST'] },
  { path: () => '/chat.html', allow: ['GET', 'HEAD'] },
]
/** Methods Bun's parser knows (each reaches the router). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'REPORT', 'PURGE', 'LINK', 'UNLINK', 'MERGE', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'M-SEARCH', 'ACL', 'BIND', 'REBIND', 'UNBIND', 'CHECKOUT', 'MKACTIVITY', 'MKCALENDAR', 'SOURCE', 'QUERY']
/** Tokens Bun's parser does not know: the connection is closed (or 400), never routed. */
const UNKNOWN_METHODS = ['FOO', 'get', 'GeT', 'POST2', 'PUBLISH', 'X'.repeat(40), 'GETT']

test(`${METHOD_CASES} requests with a method the route does not serve (seed ${SEED})`, async () => {
  const rng = new Rng(SEED ^ 0x405)
  const harness = await hostileServer()
  const failures: string[] = []
  await harness.publishValid(rng)

  for (let n = 0; n < METHOD_CASES; n++) {
    const route = rng.pick(ROUTES)
    const unknown = rng.chance(0.1)
    const method = unknown ? rng.pick(UNKNOWN_METHODS) : rng.pick(METHODS.filter((m) => !route.allow.includes(m)))
    const path = route.path(rng)
    const body = rng.pick(['', '{"data":"must not be published"}', 'data=must+not+be+published', '{"topic":"hostile/a","data":"nor this"}'])
    const label = `method case #${n}: ${method} ${path} ${JSON.stringify(body)}`
    const client = await RawClient.connect(harness.server.base)
    client.write(`${method} ${path} HTTP/1.1\r\nHost: herald.test\r\nContent-Type: ${body.startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded'}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)
    await client.waitFor((raw) => raw.closed || (raw.response()?.complete ?? false) || (method === 'HEAD' && raw.response() !== undefined), 'an answer', 3000).catch(() => {})
    const response = client.response()
    client.destroy()
    if (unknown) {
      if (response && (response.status < 400 || response.status >= 500)) failures.push(`${label} → ${response.status}; expected a 4xx or a closed connection`)
    } else if (method === 'OPTIONS') {
      if (response?.status !== 204 || response.headers.allow !== [...route.allow, 'OPTIONS'].join(', ')) failures.push(`${label} → ${response?.status} allow=${response?.headers.allow}; expected 204 with Allow`)
    } else {
      let code: string | undefined
      try {
        code = method === 'HEAD' ? 'method_not_allowed' : (JSON.parse(response?.body ?? '') as { error: { code: string } }).error.code
      } catch {
        code = `(not JSON: ${response?.body.slice(0, 60)})`
      }
      if (response?.status !== 405 || response.headers.allow !== route.allow.join(', ') || code !== 'method_not_allowed') {
        failures.push(`${label} → ${response?.status} allow=${response?.headers.allow} ${code}; expected 405 method_not_allowed, Allow: ${route.allow.join(', ')}`)
      }
    }
    if (n % 25 === 0) {
      await harness.healthy(label)
      await harness.publishValid(rng)
    }
  }
  expect(failures).toEqual([])
  await harness.finish()
}, 60_000)

/**
 * Generated payloads for the demo topics: events the hub accepts (anyone may publish anything to
 * any topic) but that no demo page or demo service sent, built to break a handler that trusts the
 * shape of what arrives: wrong types in every field, missing fields, null, arrays, deep nesting,
 * huge strings, text that is not JSON or is JSON inside a string, markup, control characters,
 * forged rosters for another room. Seeded (prng.ts), so a failing case replays with its seed.
 * Used by test/hostile/demos.test.ts (the server side) and test/browser/ (the pages).
 */
import { type Rng, SAFE } from './prng'

/** One publish to a demo topic: `data` is the published JSON value (a string stays a string). */
export interface DemoPayload {
  topic: string
  event?: string
  data: unknown
  why: string
}

/** Values of every JSON type, and strings that look like something else. */
const ODD_VALUES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  1e308,
  true,
  false,
  '',
  ' ',
  '\n',
  [],
  [null],
  {},
  { toString: 'x' },
  JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}'),
  'null',
  '{"from":"ada","text":"json in a string"}',
  '[1,2,3]',
  '<img src=x onerror="window.pwned=true">',
  '<li class="post">forged</li>',
  'constructor',
  '__proto__',
  '\u202etxet desrever',
  '\u0000\u0001\u001f',
  '🎉'.repeat(30),
]

/**
 * A string of about `length` code units, mostly letters, sometimes markup, line breaks or
 * multi-byte characters; never over 60,000 UTF-8 bytes, so it stays under the publish limit.
 */
function longString(rng: Rng, length: number): string {
  const piece = rng.pick(['x', 'word ', '<b>b</b>', '\n', '€', '🎉'])
  const bytesPerUnit = Buffer.byteLength(piece) / piece.length
  const units = Math.min(length, Math.floor(60_000 / bytesPerUnit))
  return piece.repeat(Math.ceil(units / piece.length)).slice(0, units - (units % piece.length))
}

function odd(rng: Rng): unknown {
  switch (rng.int(0, 5)) {
    case 0:
      return longString(rng, rng.int(2_001, 60_000))
    case 1: {
      let value: unknown = 'deep'
      // Nested, but within the hub's 64 levels (the payload adds a level or two around it).
      for (let i = rng.int(5, 50); i > 0; i--) value = rng.chance(0.5) ? [value] : { [rng.pick(['users', 'from', 'text'])]: value }
      return value
    }
    case 2:
      return rng.string(rng.int(25, 80), `${SAFE}-_`)
    default:
      return rng.pick(ODD_VALUES)
  }
}

/** A value that is not a chat name: another type, empty, too long, or outside A-Z a-z 0-9 _ -. */
function badName(rng: Rng): unknown {
  if (rng.chance(0.4)) return rng.pick(ODD_VALUES.filter((value) => typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,24}$/.test(value)))
  return rng.pick(['', ' ', 'a b', 'ada\n', '<b>x</b>', 'é', 'x'.repeat(25), rng.string(rng.int(25, 80), `${SAFE}-_`), `${rng.string(3, SAFE)}/${rng.string(3, SAFE)}`])
}

/** A value that is not message text: another type, blank, or longer than 2,000 characters. */
function badText(rng: Rng): unknown {
  switch (rng.int(0, 2)) {
    case 0:
      return rng.pick(['', ' ', '\n\t ', '\u00a0'])
    case 1:
      return longString(rng, rng.int(2_001, 60_000))
    default:
      return rng.pick(ODD_VALUES.filter((value) => typeof value !== 'string'))
  }
}

/** A value that is not a list of names. */
function badUsers(rng: Rng, user: string): unknown {
  return rng.chance(0.5) ? odd(rng) : [user, badName(rng), 'zed']
}

/**
 * `fields` with at least one of them broken (removed, or given a value `breakers` says is wrong
 * for it), others possibly too, and sometimes a junk field added: never a payload a page may use.
 */
function mangled(rng: Rng, fields: Record<string, unknown>, breakers: Record<string, () => unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...fields }
  const keys = Object.keys(fields)
  for (let n = rng.int(1, keys.length); n > 0; n--) {
    const key = rng.pick(keys)
    const breaker = breakers[key]
    if (rng.chance(0.25) || !breaker) delete out[key]
    else out[key] = breaker()
  }
  if (rng.chance(0.2)) out[rng.pick(['extra', 'type', 'id', 'html'])] = odd(rng)
  return out
}

/** The publish limit is 64 KiB of body (and of data); payloads stay under it so every edge accepts them. */
const MAX_DATA_BYTES = 60_000

/** Draws from `make` until the payload, as an HTTP publish body, fits the publish limit. */
function fitting(make: () => DemoPayload): DemoPayload {
  for (;;) {
    const payload = make()
    if (Buffer.byteLength(JSON.stringify({ data: payload.data, event: payload.event })) <= MAX_DATA_BYTES) return payload
  }
}

/** A chat payload for `room` (and the page user `user`): nothing a chat page should show or act on. */
export function chatPayload(rng: Rng, room: string, user: string): DemoPayload {
  return fitting(() => anyChatPayload(rng, room, user))
}

/** A `posts` update for the feed that the server never rendered: junk, markup, or a list of the wrong shape. */
export function feedPayload(rng: Rng): DemoPayload {
  return fitting(() => anyFeedPayload(rng))
}

function anyChatPayload(rng: Rng, room: string, user: string): DemoPayload {
  const roomTopic = `chat/room/${room}`
  switch (rng.int(0, 9)) {
    case 0:
      return { topic: roomTopic, event: 'presence', data: mangled(rng, { room, users: [user, 'zed'] }, { room: () => rng.pick([odd(rng), 'elsewhere']), users: () => badUsers(rng, user) }), why: 'a roster with wrong or missing fields' }
    case 1:
      return { topic: roomTopic, event: 'presence', data: { room, users: [user, badName(rng), 'zed'] }, why: 'a roster with a name that is not a name' }
    case 2:
      return { topic: roomTopic, event: 'presence', data: { room: rng.pick(['elsewhere', '', null, room.toUpperCase()]), users: [user, 'mallory'] }, why: "another room's roster" }
    case 3:
      return { topic: roomTopic, event: 'presence', data: odd(rng), why: 'a roster that is not an object' }
    case 4:
      return { topic: roomTopic, ...(rng.chance(0.5) && { event: 'message' }), data: mangled(rng, { from: 'mallory', text: 'bogus' }, { from: () => badName(rng), text: () => badText(rng) }), why: 'a message with wrong or missing fields' }
    case 5:
      return { topic: roomTopic, data: odd(rng), why: 'a message that is not an object' }
    case 6:
      return { topic: `chat/users/${user}/inbox`, event: 'direct', data: mangled(rng, { from: 'mallory', to: user, text: 'bogus' }, { from: () => badName(rng), to: () => badName(rng), text: () => badText(rng) }), why: 'a direct message with wrong or missing fields' }
    case 7:
      return { topic: `chat/users/${user}/inbox`, event: 'direct', data: { from: 'mallory', to: rng.pick(['someone-else', '', null, 42]), text: 'bogus' }, why: 'a direct message addressed to someone else' }
    case 8:
      return { topic: roomTopic, event: rng.pick(['join', 'leave']), data: mangled(rng, { user: 'mallory' }, { user: () => badName(rng) }), why: 'a join or leave with a bad user' }
    default:
      return { topic: roomTopic, event: rng.pick(['chat', 'direct', 'posts', 'x'.repeat(64)]), data: { from: 'mallory', text: 'bogus', users: ['mallory'] }, why: 'an event name the page does not use' }
  }
}

function anyFeedPayload(rng: Rng): DemoPayload {
  const why = 'a posts update the server did not render'
  switch (rng.int(0, 6)) {
    case 0:
      return { topic: 'feed', event: 'posts', data: odd(rng), why: `${why}: an odd value` }
    case 1:
      return { topic: 'feed', event: 'posts', data: rng.pick(['<li>bogus</li>', '<p>bogus</p>', '<li class="post">bogus</li>', '<div id="posts">bogus</div>', '<li class="post" id="post-1"><p class="post-text">bogus</p></li>']), why: `${why}: the wrong shape` }
    case 2:
      return {
        topic: 'feed',
        event: 'posts',
        data: '<li class="post" id="post-9" data-author="brave-otter-1"><div class="post-meta"><strong class="author">brave-otter-1</strong> <time datetime="2026-01-01T00:00:00.000Z">00:00 UTC</time></div><p class="post-text"><img src="/nope" onerror="window.pwned=true">bogus</p></li>',
        why: `${why}: markup inside a well-formed post`,
      }
    case 3:
      return { topic: 'feed', event: 'posts', data: `<li class="post" id="post-9" data-author="x" hx-get="/feed" hx-trigger="load"><div class="post-meta"><strong class="author">x</strong> <time datetime="${JSON.stringify(odd(rng))}">t</time></div><p class="post-text">bogus</p></li>`, why: `${why}: htmx attributes or a bad time` }
    case 4:
      return { topic: 'feed', event: 'posts', data: longString(rng, rng.int(10_000, 60_000)), why: `${why}: a huge string` }
    case 5:
      return { topic: 'feed', event: 'posts', data: `<li class="post">${'<b>'.repeat(rng.int(50, 500))}bogus</li>`, why: `${why}: deeply nested markup` }
    default:
      return { topic: 'feed', event: rng.pick([undefined, 'message', 'post', 'Posts']), data: '<li class="post">bogus</li>', why: 'an event name the feed page does not swap' }
  }
}

/**
 * The generated hostile corpus: every case is invalid by construction and names the error codes it
 * may get. Field-level generators are shared by the HTTP and WebSocket suites.
 */
import { CONTROL_CHARACTERS, INJECTIONS, type Rng, SAFE } from './prng'

/** A bad value for one field of a publish, with the codes refusing it may give. */
export interface BadField {
  field: 'topic' | 'data' | 'event' | 'id'
  value: unknown
  codes: string[]
  why: string
}

const WRONG_TYPES: unknown[] = [42, -1, 1.5, true, false, null, [], ['a'], {}, { a: 1 }, [['nested']]]
const LIMIT = 65_536

function injected(rng: Rng, base: string): string {
  const at = rng.int(0, base.length)
  const bad = rng.chance(0.5) ? rng.pick(INJECTIONS) : rng.pick(CONTROL_CHARACTERS)
  return base.slice(0, at) + bad + base.slice(at)
}

function deep(rng: Rng, depth: number): unknown {
  let value: unknown = rng.chance(0.5) ? 'leaf' : 1
  for (let i = 0; i < depth; i++) value = rng.chance(0.5) ? [value] : { k: value }
  return value
}

/** Draws one invalid field value. */
export function badField(rng: Rng): BadField {
  switch (rng.int(0, 13)) {
    case 0:
      return { field: 'topic', value: rng.pick(WRONG_TYPES.filter((v) => !Array.isArray(v))), codes: ['invalid_topic'], why: 'topic of a wrong type' }
    case 1:
      return { field: 'topic', value: injected(rng, `t/${rng.string(rng.int(1, 10), SAFE)}`), codes: ['invalid_topic'], why: 'control character or line break in a topic' }
    case 2:
      return {
        field: 'topic',
        value: rng.pick(['', '/', 'a//b', '/a', 'a/', 'a/*/b', 'a/**', '*', 'a b', 'ä', 'a/../b?', 'a#b', 'x'.repeat(257), Array(33).fill('s').join('/')]),
        codes: ['invalid_topic'],
        why: 'malformed topic',
      }
    case 3:
      return { field: 'event', value: rng.pick(WRONG_TYPES.filter((v) => v !== null)), codes: ['invalid_event'], why: 'event name of a wrong type' }
    case 4:
      return { field: 'event', value: injected(rng, rng.string(rng.int(1, 20), SAFE)), codes: ['invalid_event'], why: 'CR/LF or control character in an event name' }
    case 5:
      return { field: 'event', value: rng.pick(['reset', 'a b', 'x'.repeat(65), 'é', 'a;b', 'a"b', '<script>']), codes: ['invalid_event'], why: 'event name outside the allowed set' }
    case 6:
      return { field: 'id', value: rng.pick(WRONG_TYPES.filter((v) => v !== null)), codes: ['invalid_id'], why: 'id of a wrong type' }
    case 7:
      return { field: 'id', value: injected(rng, `${rng.int(1, 9)}-0`), codes: ['invalid_id'], why: 'CR/LF or control character in an id' }
    case 8:
      return {
        field: 'id',
        value: rng.pick(['1', '-1', '1-', '-', '1-0-0', 'a-b', '1.5-0', '0x10-0', '1e3-0', ' 1-0', '1-0 ', '１-０', '9'.repeat(16) + '-0', '1-' + '9'.repeat(16), '9007199254740993-0', 'x'.repeat(10_000)]),
        codes: ['invalid_id'],
        why: 'malformed id',
      }
    case 9:
      return { field: 'id', value: `${rng.int(1, 1_000_000)}-${rng.int(0, 9)}`, codes: ['id_not_increasing'], why: 'an id older than the last one' }
    case 10:
      return { field: 'data', value: deep(rng, rng.int(65, 3000)), codes: ['invalid_data'], why: 'data nested too deeply' }
    case 11:
      return { field: 'data', value: 'x'.repeat(LIMIT + rng.int(1, 1000)), codes: ['payload_too_large'], why: 'data over the size limit' }
    case 12:
      return { field: 'data', value: `ok${String.fromCharCode(rng.int(0xd800, 0xdfff))}${rng.chance(0.5) ? 'tail' : ''}`, codes: ['invalid_data'], why: 'lone surrogate in data' }
    default:
      return { field: 'data', value: undefined, codes: ['invalid_data'], why: 'data missing' }
  }
}

/** An HTTP request expected to be refused with a 4xx JSON error. */
export interface HttpCase {
  why: string
  method: string
  path: string
  headers: Record<string, string>
  body?: string | Uint8Array
  /** Acceptable statuses and error codes (undefined codes: any JSON error body). */
  statuses: number[]
  codes?: string[]
}

const STATUS_BY_CODE: Record<string, number> = {
  invalid_topic: 400,
  invalid_event: 400,
  invalid_id: 400,
  invalid_data: 400,
  invalid_message: 400,
  malformed_json: 400,
  empty_body: 400,
  id_not_increasing: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
}

const json = { 'content-type': 'application/json' }

function malformedJson(rng: Rng): string {
  const valid = JSON.stringify({ data: { list: [1, 2, { s: 'x' }], text: rng.string(rng.int(0, 20), SAFE) }, event: 'e' })
  for (;;) {
    let text: string
    switch (rng.int(0, 7)) {
      case 0:
        text = valid.slice(0, rng.int(1, valid.length - 1))
        break
      case 1: {
        const at = rng.int(0, valid.length)
        text = valid.slice(0, at) + rng.pick(['{', '}', '[', ']', ',', ':', '"', '\\', "'", '\x00', 'NaN', 'undefined']) + valid.slice(at)
        break
      }
      case 2:
        text = rng.pick(["{'data': 'x'}", '{data: "x"}', '{"data": "x",}', '{"data": NaN}', '{"data": Infinity}', '{"data": 0x10}', '{"data": "x"} // c', '/* c */ {"data": 1}', '{"data": "\\x41"}', '{"data": "\t"}', '{"data": 01}', '{"data": .5}', '{"data" "x"}', '{"data": "x"}}', '[{"data": 1}'])
        break
      case 3:
        text = '{"data":' + '['.repeat(rng.int(10, 20_000))
        break
      case 4:
        text = valid.replace('"', '“')
        break
      case 5:
        text = Buffer.from(rng.bytes(rng.int(1, 200))).toString('latin1')
        break
      case 6:
        text = valid + rng.pick(['x', '{}', '"', ' 1'])
        break
      default:
        text = `{"data": "${'a'.repeat(rng.int(1, 50))}`
    }
    try {
      JSON.parse(text)
    } catch {
      if (text.trim() !== '') return text
    }
  }
}

function invalidUtf8(rng: Rng): Uint8Array {
  const bad = rng.pick([[0xff], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc3], [0xe2, 0x82], [0x80], [0xf4, 0x90, 0x80, 0x80]])
  const prefix = Buffer.from('{"data": "abc')
  const suffix = Buffer.from('def"}')
  return new Uint8Array(Buffer.concat([prefix, Buffer.from(bad), suffix]))
}

/** Draws one hostile HTTP publish request. */
export function httpCase(rng: Rng): HttpCase {
  const kind = rng.int(0, 11)
  const topic = `hostile/${rng.string(rng.int(1, 8), SAFE)}`
  switch (kind) {
    case 0:
      return { why: 'malformed JSON', method: 'POST', path: `/topics/${topic}`, headers: json, body: malformedJson(rng), statuses: [400], codes: ['malformed_json'] }
    case 1:
      return { why: 'malformed JSON batch', method: 'POST', path: '/publish', headers: json, body: malformedJson(rng), statuses: [400], codes: ['malformed_json'] }
    case 2: {
      const bad = badField(rng)
      const body: Record<string, unknown> = { data: 'fine' }
      if (bad.field !== 'topic') body[bad.field] = bad.value
      if (bad.field === 'data' && bad.value === undefined) delete body.data
      if (bad.field === 'topic' && typeof bad.value !== 'string') return { why: `${bad.why} (body)`, method: 'POST', path: '/publish', headers: json, body: JSON.stringify({ topic: bad.value, data: 1 }), statuses: [400], codes: bad.codes }
      // A topic goes in the path, percent-encoded, so control characters arrive as they are; an
      // empty one may not even reach the route.
      const path = bad.field === 'topic' ? `/topics/${encodeURIComponent(bad.value as string)}` : `/topics/${topic}`
      const codes = bad.field === 'topic' ? ['invalid_topic', 'not_found'] : bad.codes
      return { why: bad.why, method: 'POST', path, headers: json, body: JSON.stringify(body), statuses: codes.map((code) => STATUS_BY_CODE[code] ?? 404), codes }
    }
    case 3: {
      // A batch where one item among valid ones is bad: nothing may be published.
      const bad = badField(rng)
      const items: Record<string, unknown>[] = Array.from({ length: rng.int(1, 20) }, (_, i) => ({ topic: `${topic}/${i}`, data: i }))
      const item: Record<string, unknown> = { topic, data: 'x', [bad.field]: bad.value }
      if (bad.field === 'data' && bad.value === undefined) delete item.data
      items.splice(rng.int(0, items.length), 0, item)
      const body = JSON.stringify(items)
      const codes = body.length > LIMIT ? ['payload_too_large'] : bad.codes
      return { why: `batch with ${bad.why}`, method: 'POST', path: '/publish', headers: json, body, statuses: codes.map((code) => STATUS_BY_CODE[code] as number), codes }
    }
    case 4: {
      // Bodies that are JSON but not a publish. (On /topics/{topic} the path gives the topic, so
      // a bad "topic" field there is ignored; those go to /publish only.)
      const onTopic = rng.chance(0.5)
      const shapes = ['42', '"text"', 'null', 'true', '[]', '[1, 2]', '[null]', '[[{"topic": "a", "data": 1}]]']
      const body = rng.pick(onTopic ? shapes : [...shapes, '{"topic": [], "data": 1}', '{"topic": [null], "data": 1}', '{"data": 1}'])
      return { why: 'wrong body shape', method: 'POST', path: onTopic ? `/topics/${topic}` : '/publish', headers: json, body, statuses: [400], codes: ['invalid_message', 'invalid_topic'] }
    }
    case 5:
      return { why: 'invalid UTF-8', method: 'POST', path: `/topics/${topic}`, headers: rng.pick([json, { 'content-type': 'text/plain' }]), body: invalidUtf8(rng), statuses: [400], codes: ['invalid_data'] }
    case 6:
      return { why: 'oversized body', method: 'POST', path: rng.pick([`/topics/${topic}`, '/publish']), headers: json, body: `{"data": "${'y'.repeat(LIMIT + rng.int(1, 100_000))}"}`, statuses: [413], codes: ['payload_too_large'] }
    case 7:
      return { why: 'empty body', method: 'POST', path: `/topics/${topic}`, headers: rng.pick([json, { 'content-type': 'text/plain' }]), body: rng.pick(['', ' ', '\n\t ']), statuses: [400], codes: ['empty_body'] }
    case 8:
      return {
        why: 'unsupported or lying content type',
        method: 'POST',
        path: `/topics/${topic}`,
        headers: { 'content-type': rng.pick(['application/xml', 'multipart/form-data; boundary=x', 'image/png', 'text/html', 'application/octet-stream', 'foo']) },
        body: '{"data": 1}',
        statuses: [400, 415],
        codes: ['unsupported_media_type', 'malformed_json'],
      }
    case 9:
      return { why: 'form without data', method: 'POST', path: `/topics/${topic}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: rng.pick(['event=x', 'dat=1', '', 'a=%0A']), statuses: [400], codes: ['invalid_data', 'empty_body'] }
    case 10: {
      const raw = rng.pick(['%E0%A4%A', '%FF', '%', '%G0', 'a%2', `${topic}%0A`, `${topic}%0D%0Aevent:x`, `${topic}%00`, '%2F%2F', 'a%20b'])
      return { why: 'malformed or injected path escape', method: 'POST', path: `/topics/${raw}`, headers: json, body: '{"data": 1}', statuses: [400, 404], codes: ['invalid_topic', 'not_found'] }
    }
    default:
      return { why: 'data nested too deeply inside a valid envelope', method: 'POST', path: '/publish', headers: json, body: JSON.stringify({ topic, data: deep(rng, rng.int(65, 2000)) }), statuses: [400], codes: ['invalid_data', 'payload_too_large'].slice(0, 1) }
  }
}

/** A subscribe request expected to be refused (400), or a well-formed but unknown resume (200 + reset). */
export interface SubscribeCase {
  why: string
  query: string
  headers: Record<string, string>
  /** 400 with one of `codes`, or 200 starting with `reset`. */
  expect: 'error' | 'reset'
  codes: string[]
}

const ABSURD_IDS = ['', ' ', '-', '0', '-1-0', '1--0', '1-0x', 'NaN-NaN', 'Infinity-0', '1e309-0', '9'.repeat(100), `${'9'.repeat(16)}-0`, '٣-٣', '1-0;', '1-0,2-0', '../../etc/passwd', '%00', 'null', '[]', '{"a":1}', 'x'.repeat(5000)]

export function subscribeCase(rng: Rng): SubscribeCase {
  switch (rng.int(0, 5)) {
    case 0: {
      const id = rng.pick(ABSURD_IDS.filter((id) => id.trim() !== ''))
      return rng.chance(0.5)
        ? { why: 'absurd lastEventId query', query: `topic=hostile/a&lastEventId=${encodeURIComponent(id)}`, headers: {}, expect: 'error', codes: ['invalid_last_event_id'] }
        : { why: 'absurd Last-Event-ID header', query: 'topic=hostile/a', headers: { 'last-event-id': id.replace(/[^\x20-\x7e]/g, '?') }, expect: 'error', codes: ['invalid_last_event_id'] }
    }
    case 1:
      return { why: 'control character in lastEventId', query: `topic=hostile/a&lastEventId=${encodeURIComponent(`1-0${rng.pick(CONTROL_CHARACTERS)}`)}`, headers: {}, expect: 'error', codes: ['invalid_last_event_id'] }
    case 2: {
      const bad = rng.pick(['', '/', 'a//b', '**/a', 'a/**/b', 'a/*b', 'a/b*', '***', 'a b', 'x'.repeat(257), Array(33).fill('s').join('/'), `a${rng.pick(INJECTIONS)}b`, `a${rng.pick(CONTROL_CHARACTERS)}`])
      return { why: 'malformed selector', query: `topic=${encodeURIComponent(bad)}`, headers: {}, expect: 'error', codes: ['invalid_selector'] }
    }
    case 3:
      return { why: 'too many topics', query: Array.from({ length: rng.int(65, 300) }, (_, i) => `topic=t${i}`).join('&'), headers: {}, expect: 'error', codes: ['too_many_topics'] }
    case 4:
      return { why: 'no topic', query: rng.pick(['', 'topics=a', 'lastEventId=1-0', 'topic']), headers: {}, expect: 'error', codes: ['invalid_selector'] }
    default: {
      // Well-formed but never issued (far future) or from before the server started: documented as reset.
      const id = rng.pick([`${rng.int(1, 1_000_000)}-${rng.int(0, 100)}`, `${'9'.repeat(15)}-${'9'.repeat(15)}`, '0-0'])
      return { why: 'unknown but well-formed resume position', query: 'topic=hostile/a', headers: { 'last-event-id': id }, expect: 'reset', codes: [] }
    }
  }
}

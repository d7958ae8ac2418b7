import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { OPTIONS } from '../../src/config'
import { MESSAGE_SIZE_OPTION } from '../../src/hub/event'
import { SseClient, startServer, type TestServer, WsClient } from '../helpers'

let server: TestServer
beforeAll(async () => {
  server = await startServer({ maxMessageBytes: 1024 })
})
afterAll(() => server.stop())

async function post(path: string, body: string | Uint8Array<ArrayBuffer>, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${server.base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

describe('POST /topics/{topic}', () => {
  test('JSON, text and form bodies reach SSE and WebSocket subscribers alike', async () => {
    const sse = await SseClient.open(`${server.base}/events?topic=pub/one`)
    const ws = await WsClient.open(`${server.wsBase}/ws?topic=pub/one`)
    await ws.waitFor((m) => m.type === 'subscribed', 'subscribed')

    const json = await post('/topics/pub/one', JSON.stringify({ data: { n: 1 }, event: 'update' }))
    expect(json.status).toBe(200)
    expect(json.json.topic).toBe('pub/one')
    expect(json.json.id).toMatch(/^\d+-\d+$/)
    await post('/topics/pub/one', 'plain words', 'text/plain')
    await post('/topics/pub/one', 'data=from+a+form&event=form', 'application/x-www-form-urlencoded')

    const events = await sse.waitForMessages(3)
    expect(events.map(({ id, event, data }) => ({ id, event, data }))).toEqual([
      { id: json.json.id as string, event: 'update', data: '{"n":1}' },
      { id: expect.any(String), event: 'message', data: 'plain words' },
      { id: expect.any(String), event: 'form', data: 'from a form' },
    ])
    await ws.waitFor(() => ws.ofType('event').length === 3, 'three ws events')
    expect(ws.ofType('event').map(({ data, event }) => ({ data, event }))).toEqual([
      { data: { n: 1 }, event: 'update' },
      { data: 'plain words', event: undefined },
      { data: 'from a form', event: 'form' },
    ])
    sse.close()
    ws.close()
  })

  test('a percent-encoded topic in the path is decoded', async () => {
    const { status, json } = await post('/topics/pub%2Fencoded', JSON.stringify({ data: 'x' }))
    expect(status).toBe(200)
    expect(json.topic).toBe('pub/encoded')
  })
})

describe('POST /publish', () => {
  test('a batch is stored in order, one event per topic, and answers every id', async () => {
    const sse = await SseClient.open(`${server.base}/events?topic=batch/**`)
    const { status, json } = await post(
      '/publish',
      JSON.stringify([
        { topic: ['batch/a', 'batch/b'], data: 'first' },
        { topic: 'batch/a', data: 'second', event: 'named' },
      ]),
    )
    expect(status).toBe(200)
    const published = json.events as { id: string; topic: string }[]
    expect(published.map((e) => e.topic)).toEqual(['batch/a', 'batch/b', 'batch/a'])
    const events = await sse.waitForMessages(3)
    expect(events.map((e) => [e.id, e.data])).toEqual(published.map((e, i) => [e.id, ['first', 'first', 'second'][i]]))
    sse.close()
  })

  test('a single object works too', async () => {
    const { status, json } = await post('/publish', JSON.stringify({ topic: 'batch/single', data: 1 }))
    expect(status).toBe(200)
    expect((json.events as unknown[]).length).toBe(1)
  })
})

describe('bad input: a clear 4xx JSON error, and nothing is published', () => {
  const cases: [string, string, string | Uint8Array<ArrayBuffer>, string, number, string][] = [
    ['invalid topic', '/topics/bad%20topic', '{"data":"x"}', 'application/json', 400, 'invalid_topic'],
    ['wildcard topic', '/topics/reject/*', '{"data":"x"}', 'application/json', 400, 'invalid_topic'],
    ['empty body', '/topics/reject/a', '', 'application/json', 400, 'empty_body'],
    ['malformed JSON', '/topics/reject/a', '{"data":', 'application/json', 400, 'malformed_json'],
    ['missing data', '/topics/reject/a', '{"event":"x"}', 'application/json', 400, 'invalid_data'],
    ['JSON that is not an object', '/topics/reject/a', '"just a string"', 'application/json', 400, 'invalid_message'],
    ['event name with a newline', '/topics/reject/a', '{"data":"x","event":"a\\nid: 9"}', 'application/json', 400, 'invalid_event'],
    ['reserved event name', '/topics/reject/a', '{"data":"x","event":"reset"}', 'application/json', 400, 'invalid_event'],
    ['non-string event name', '/topics/reject/a', '{"data":"x","event":5}', 'application/json', 400, 'invalid_event'],
    ['malformed id', '/topics/reject/a', '{"data":"x","id":"abc"}', 'application/json', 400, 'invalid_id'],
    ['id older than the last', '/topics/reject/a', '{"data":"x","id":"1-0"}', 'application/json', 409, 'id_not_increasing'],
    ['oversized body', '/topics/reject/a', JSON.stringify({ data: 'x'.repeat(2000) }), 'application/json', 413, 'payload_too_large'],
    ['unsupported content type', '/topics/reject/a', '<x/>', 'application/xml', 415, 'unsupported_media_type'],
    ['form without data', '/topics/reject/a', 'hello', 'application/x-www-form-urlencoded', 400, 'invalid_data'],
    ['invalid UTF-8', '/topics/reject/a', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'application/json', 400, 'invalid_data'],
    ['batch with one bad item', '/publish', '[{"topic":"reject/a","data":"ok"},{"topic":"bad topic","data":"x"}]', 'application/json', 400, 'invalid_topic'],
    ['empty batch', '/publish', '[]', 'application/json', 400, 'invalid_message'],
    ['batch item not an object', '/publish', '[1]', 'application/json', 400, 'invalid_message'],
    ['batch item without topic', '/publish', '{"data":"x"}', 'application/json', 400, 'invalid_topic'],
    ['event name a server notice uses (shutdown)', '/topics/reject/a', '{"data":"x","event":"shutdown"}', 'application/json', 400, 'invalid_event'],
    ['event name a server notice uses (overflow)', '/topics/reject/a', '{"data":"x","event":"overflow"}', 'application/json', 400, 'invalid_event'],
    ['event name EventSource fires itself (error)', '/topics/reject/a', '{"data":"x","event":"error"}', 'application/json', 400, 'invalid_event'],
    ['reserved event name in another case', '/topics/reject/a', '{"data":"x","event":"Reset"}', 'application/json', 400, 'invalid_event'],
    ['misspelt field', '/topics/reject/a', '{"data":1,"evnt":"x"}', 'application/json', 400, 'unknown_field'],
    ['topic in a /topics/{topic} body', '/topics/reject/a', '{"data":1,"topic":"elsewhere"}', 'application/json', 400, 'unknown_field'],
    ['__proto__ field', '/topics/reject/a', '{"data":1,"__proto__":{"event":"x"}}', 'application/json', 400, 'unknown_field'],
    ['unknown field in a single /publish', '/publish', '{"topic":"reject/a","data":1,"ids":"1-0"}', 'application/json', 400, 'unknown_field'],
    ['unknown field in one batch item', '/publish', '[{"topic":"reject/a","data":1},{"topic":"reject/a","data":2,"Event":"x"}]', 'application/json', 400, 'unknown_field'],
    ['unknown form field', '/topics/reject/a', 'data=x&evnt=y', 'application/x-www-form-urlencoded', 400, 'unknown_field'],
    ['form field given twice', '/topics/reject/a', 'data=x&data=y', 'application/x-www-form-urlencoded', 400, 'invalid_message'],
  ]

  test.each(cases)('%s', async (_name, path, body, type, status, code) => {
    const before = server.hub.stats().published
    const response = await fetch(`${server.base}${path}`, { method: 'POST', headers: { 'content-type': type }, body })
    expect(response.status).toBe(status)
    expect(response.headers.get('content-type')).toContain('application/json')
    const json = (await response.json()) as { error: { code: string; message: string } }
    expect(json.error.code).toBe(code)
    expect(json.error.message.length).toBeGreaterThan(5)
    expect(server.hub.stats().published).toBe(before)
  })

  test('an unknown field is named in the error, with the likely intended one and the allowed ones', async () => {
    const single = await post('/topics/reject/a', '{"data":1,"evnt":"x"}')
    expect(single.json).toEqual({ error: { code: 'unknown_field', message: 'unknown field "evnt" in the body (did you mean "event"?); allowed fields: data, event, id, private' } })
    const batch = await post('/publish', '[{"topic":"reject/a","data":1},{"topic":"reject/a","dta":2}]')
    expect(batch.json).toEqual({ error: { code: 'unknown_field', message: 'unknown field "dta" in item 1 (did you mean "data"?); allowed fields: topic, data, event, id, private' } })
    const path = await post('/topics/reject/a', '{"data":1,"topic":"b"}')
    expect((path.json.error as { message: string }).message).toContain('the topic is the path')
  })

  test('the 413 message names the limit and the option that sets it', async () => {
    const body = await post('/topics/reject/a', JSON.stringify({ data: 'x'.repeat(2000) }))
    expect((body.json.error as { message: string }).message).toBe('the body is larger than the limit of 1024 bytes (set by --max-message-size / HERALD_MAX_MESSAGE_SIZE)')
    // ... and that is the option that sets it (the hub's "data" limit, test/transports/ws.test.ts, names it too).
    expect(OPTIONS.find((option) => option.key === 'maxMessageBytes')).toMatchObject({ flag: '--max-message-size', env: ['HERALD_MAX_MESSAGE_SIZE'] })
    expect(MESSAGE_SIZE_OPTION).toBe('--max-message-size / HERALD_MAX_MESSAGE_SIZE')
  })

  test('a lying Content-Length larger than the limit is refused before reading', async () => {
    const response = await fetch(`${server.base}/topics/reject/a`, { method: 'POST', headers: { 'content-type': 'text/plain', 'content-length': '999999' }, body: 'x'.repeat(999999) })
    expect(response.status).toBe(413)
  })

  test('unknown routes answer a JSON 404', async () => {
    const response = await fetch(`${server.base}/nope`)
    expect(response.status).toBe(404)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found')
  })

  test('the server still answers after all of it', async () => {
    expect((await fetch(`${server.base}/healthz`)).status).toBe(200)
  })
})

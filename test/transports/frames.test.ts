import { expect, test } from 'bun:test'
import type { HubEvent } from '../../src/hub/event'
import { concatFrames, SSE_KEEP_ALIVE, sseClosing, sseFrame, sseReset, sseRetry, wsEventFrame } from '../../src/transports/frames'

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

function event(fields: Partial<HubEvent>): HubEvent {
  return { id: '5-1', position: { ms: 5, seq: 1 }, topic: 'chat/a', data: 'hi', json: false, time: 5, ...fields }
}

test('an SSE event: id, optional event name, data, blank line', () => {
  expect(text(sseFrame(event({})))).toBe('id: 5-1\ndata: hi\n\n')
  expect(text(sseFrame(event({ event: 'chat' })))).toBe('id: 5-1\nevent: chat\ndata: hi\n\n')
})

test('multi-line data becomes several data lines, for LF, CR and CRLF alike', () => {
  expect(text(sseFrame(event({ data: 'a\nb\r\nc\rd' })))).toBe('id: 5-1\ndata: a\ndata: b\ndata: c\ndata: d\n\n')
  expect(text(sseFrame(event({ data: 'end\n' })))).toBe('id: 5-1\ndata: end\ndata: \n\n')
  expect(text(sseFrame(event({ data: '' })))).toBe('id: 5-1\ndata: \n\n')
})

test('control frames', () => {
  expect(text(sseRetry(3000))).toBe('retry: 3000\n\n')
  expect(text(sseRetry(3000, '17-4'))).toBe('retry: 3000\nid: 17-4\n\n')
  expect(text(SSE_KEEP_ALIVE)).toBe(': keep-alive\n\n')
  expect(text(sseReset('9-0', '1-0'))).toBe('id: 9-0\nevent: reset\ndata: {"lastEventId":"1-0","head":"9-0"}\n\n')
  expect(text(sseClosing('overflow', 1000))).toBe('retry: 1000\nevent: overflow\ndata: {"reason":"overflow"}\n\n')
})

test('a batch is one chunk', () => {
  const joined = concatFrames([sseFrame(event({})), sseFrame(event({ id: '6-0', data: 'x' }))])
  expect(text(joined)).toBe('id: 5-1\ndata: hi\n\nid: 6-0\ndata: x\n\n')
})

test('WebSocket event frames embed JSON payloads as JSON and strings as strings', () => {
  expect(JSON.parse(wsEventFrame(event({ data: '{"a":1}', json: true, event: 'chat' })))).toEqual({ type: 'event', topic: 'chat/a', id: '5-1', event: 'chat', data: { a: 1 } })
  expect(wsEventFrame(event({ data: 'say "hi"\n' }))).toBe('{"type":"event","topic":"chat/a","id":"5-1","data":"say \\"hi\\"\\n"}')
})

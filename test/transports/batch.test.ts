import { expect, test } from 'bun:test'
import { Delivery } from '../../src/hub/delivery'
import type { HubEvent } from '../../src/hub/event'
import { sharedBatchEncoder } from '../../src/transports/sse'

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

function delivery(n: number, sequence = n): Delivery {
  const event: HubEvent = { id: `${n}-0`, position: { ms: n, seq: 0 }, topic: n % 2 ? 'odd' : 'even', data: `e${n}`, json: false, time: n }
  return new Delivery(event, sequence)
}

test('subscribers with the same gap-free batch share one joined chunk', () => {
  const encode = sharedBatchEncoder()
  const [a, b, c] = [delivery(1), delivery(2), delivery(3)]
  const first = encode([a, b, c])
  expect(text(first)).toBe('id: 1-0\ndata: e1\n\nid: 2-0\ndata: e2\n\nid: 3-0\ndata: e3\n\n')
  expect(encode([a, b, c])).toBe(first) // the same bytes, not a copy
})

test('a batch with a gap is joined for itself, even if it starts and ends alike', () => {
  const encode = sharedBatchEncoder()
  const [a, b, c, d] = [delivery(1), delivery(2), delivery(3), delivery(4)]
  encode([a, b, c, d])
  expect(text(encode([a, d]))).toBe('id: 1-0\ndata: e1\n\nid: 4-0\ndata: e4\n\n')
  expect(text(encode([a, c, d]))).toBe('id: 1-0\ndata: e1\n\nid: 3-0\ndata: e3\n\nid: 4-0\ndata: e4\n\n')
})

test('replayed deliveries (no sequence) are never shared', () => {
  const encode = sharedBatchEncoder()
  const replay = [delivery(1, -1), delivery(2, -1)]
  const once = encode(replay)
  expect(encode(replay)).not.toBe(once)
  expect(text(encode(replay))).toBe(text(once))
})

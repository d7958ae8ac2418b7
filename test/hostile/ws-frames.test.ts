/**
 * Garbage and fragmented WebSocket frames from a raw TCP client, generated from a seed. Protocol
 * violations must close the socket (1002 protocol error, 1007 bad UTF-8, 1009 too big); valid but
 * unusual framing (fragments, interleaved pings) must work; a binary frame gets an `error`. After
 * each case /healthz answers, and nothing accepted is lost or altered (harness.ts).
 */
import { expect, test } from 'bun:test'
import { hostileServer } from './harness'
import { Rng, SEED } from './prng'
import { frame, RawWebSocket } from './raw-ws'

const CASES = 400

type Expect = { kind: 'closed'; codes: number[] } | { kind: 'reply'; ref: string } | { kind: 'error'; code: string } | { kind: 'any' }

interface FrameCase {
  why: string
  bytes: Uint8Array[]
  expect: Expect
}

const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts))

/** Splits `text` (as UTF-8 bytes) into `count` fragments at random byte offsets, possibly mid-character. */
function fragments(rng: Rng, text: string, count: number): Uint8Array[] {
  const bytes = Buffer.from(text)
  const cuts = [...new Set(Array.from({ length: count - 1 }, () => rng.int(1, bytes.byteLength - 1)))].sort((a, b) => a - b)
  const edges = [0, ...cuts, bytes.byteLength]
  return edges.slice(1).map((end, i) => frame({ opcode: i === 0 ? 1 : 0, fin: i === edges.length - 2, payload: bytes.subarray(edges[i] as number, end) }))
}

function frameCase(rng: Rng, n: number): FrameCase {
  const ref = `ref-${n}-é🎉`
  const ping = JSON.stringify({ type: 'ping', ref })
  const protocolError: Expect = { kind: 'closed', codes: [1002] }
  switch (rng.int(0, 15)) {
    case 0:
      return { why: 'random garbage bytes', bytes: [new Uint8Array(rng.bytes(rng.int(1, 300)))], expect: { kind: 'any' } }
    case 1:
      return { why: 'unmasked client frame', bytes: [frame({ opcode: 1, payload: ping, mask: false })], expect: protocolError }
    case 2:
      return { why: 'reserved opcode', bytes: [frame({ opcode: rng.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), payload: ping })], expect: protocolError }
    case 3:
      return { why: 'reserved bits set', bytes: [frame({ opcode: 1, payload: ping, rsv: rng.int(1, 7) })], expect: protocolError }
    case 4:
      return { why: 'continuation without a start', bytes: [frame({ opcode: 0, payload: ping })], expect: protocolError }
    case 5:
      return { why: 'fragmented control frame', bytes: [frame({ opcode: 9, fin: false, payload: 'a' }), frame({ opcode: 0, payload: 'b' })], expect: protocolError }
    case 6:
      return { why: 'control frame over 125 bytes', bytes: [frame({ opcode: rng.pick([8, 9, 10]), payload: 'p'.repeat(rng.int(126, 1000)) })], expect: protocolError }
    case 7: {
      const bad = rng.pick([[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x28, 0xa1]])
      return { why: 'text frame with invalid UTF-8', bytes: [frame({ opcode: 1, payload: concat([Buffer.from('{"type":"ping","ref":"'), new Uint8Array(bad), Buffer.from('"}')]) })], expect: { kind: 'closed', codes: [1007] } }
    }
    case 8:
      return { why: 'a valid message in fragments, split anywhere (even inside a character)', bytes: fragments(rng, ping, rng.int(2, 12)), expect: { kind: 'reply', ref } }
    case 9: {
      const parts = fragments(rng, ping, 3)
      parts.splice(1, 0, frame({ opcode: 9, payload: 'interleaved' }))
      return { why: 'a ping between the fragments of a message', bytes: parts, expect: { kind: 'reply', ref } }
    }
    case 10:
      return { why: 'a claimed length far over the limit', bytes: [frame({ opcode: 1, payload: '{"type":', claimedLength: rng.pick([70_000, 2 ** 20, 2 ** 40, 2 ** 52]) })], expect: { kind: 'closed', codes: [1009] } }
    case 11:
      return { why: 'a frame over the size limit', bytes: [frame({ opcode: 1, payload: JSON.stringify({ type: 'publish', topic: 'hostile/big', data: 'z'.repeat(rng.int(70_000, 200_000)) }) })], expect: { kind: 'closed', codes: [1009] } }
    case 12:
      return { why: 'a binary frame', bytes: [frame({ opcode: 2, payload: rng.chance(0.5) ? ping : new Uint8Array(rng.bytes(rng.int(0, 100))) })], expect: { kind: 'error', code: 'invalid_message' } }
    case 13: {
      const code = rng.pick([0, 999, 1004, 1005, 1006, 1015, 1100, 2000, 5000])
      const reason = rng.chance(0.5) ? Buffer.from([code >> 8, code & 0xff]) : Buffer.from([code >> 8])
      return { why: `a close frame with invalid code ${code}${reason.byteLength === 1 ? ' (truncated)' : ''}`, bytes: [frame({ opcode: 8, payload: reason })], expect: protocolError }
    }
    case 14:
      return { why: 'a valid message in one-byte fragments', bytes: fragments(rng, ping, Buffer.byteLength(ping)), expect: { kind: 'reply', ref } }
    default: {
      const parts = fragments(rng, ping, 3)
      parts.splice(1, 0, frame({ opcode: 1, payload: ping }))
      return { why: 'a new message while a fragmented one is unfinished', bytes: parts, expect: protocolError }
    }
  }
}

test(`${CASES} hostile WebSocket frames (seed ${SEED})`, async () => {
  const rng = new Rng(SEED ^ 0xf2a)
  const harness = await hostileServer()
  const failures: string[] = []
  await harness.publishValid(rng)

  for (let n = 0; n < CASES; n++) {
    const c = frameCase(rng, n)
    const label = `frame case #${n} (${c.why})`
    const ws = await RawWebSocket.open(harness.server.base)
    for (const bytes of c.bytes) ws.send(bytes)
    const expected = c.expect
    if (expected.kind === 'any') {
      await Bun.sleep(20)
    } else {
      const frames = await ws.settle(1).catch(() => ws.frames())
      const closed = frames.closeCode !== undefined || ws.client.closed
      if (expected.kind === 'closed') {
        if (!closed || (frames.closeCode !== undefined && !expected.codes.includes(frames.closeCode))) failures.push(`${label} → close ${frames.closeCode} (socket ${ws.client.closed ? 'closed' : 'open'}); expected ${expected.codes.join('/')}`)
      } else {
        const reply = frames.texts[0] ? (JSON.parse(frames.texts[0]) as Record<string, unknown>) : undefined
        const ok = expected.kind === 'reply' ? reply?.type === 'pong' && reply.ref === expected.ref : reply?.type === 'error' && reply.code === expected.code
        if (!ok || closed) failures.push(`${label} → ${JSON.stringify(frames)}; expected ${JSON.stringify(expected)}`)
      }
    }
    ws.destroy()
    await harness.healthy(label)
    if (n % 10 === 0) await harness.publishValid(rng)
  }

  expect(failures).toEqual([])
  await harness.finish()
}, 60_000)

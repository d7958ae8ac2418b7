/**
 * Hostile WebSocket messages (well-framed, bad content), generated from a seed: malformed JSON,
 * wrong types, unknown types, bad selectors, absurd lastEventId values, and every bad publish field.
 * Each must get an `error` with a stable code (and the message's `ref` when it had one) on a socket
 * that stays usable; /healthz answers after each; nothing accepted is lost or altered (harness.ts).
 */
import { expect, test } from 'bun:test'
import { waitFor, WsClient } from '../helpers'
import { badField } from './corpus'
import { hostileServer } from './harness'
import { CONTROL_CHARACTERS, INJECTIONS, Rng, SAFE, SEED } from './prng'

const CASES = 1500

interface WsCase {
  why: string
  /** Sent as is when a string, else as JSON with a fresh ref. */
  message: string | Record<string, unknown>
  codes: string[]
}

const WRONG: unknown[] = [42, true, null, {}, { a: 1 }, [1], [[]], '', 'x y']

function wsCase(rng: Rng): WsCase {
  switch (rng.int(0, 9)) {
    case 0:
      return { why: 'malformed JSON', message: rng.pick(['{', '{"type":', '{"type": "ping"', "{'type': 'ping'}", '{"type": ping}', 'ping', '', ' ', '\u0000', '{"type": "ping"}}', '[{"type": "ping"}', `{"type": "publish", "data": ${'['.repeat(rng.int(10, 5000))}`]), codes: ['malformed_json', 'invalid_message'] }
    case 1:
      return { why: 'JSON that is not an object', message: rng.pick(['42', '"ping"', 'null', 'true', '[]', '[{"type": "ping"}]', '-0', '1e400']), codes: ['invalid_message', 'malformed_json'] }
    case 2:
      return { why: 'unknown or missing type', message: { type: rng.pick([undefined, 'PING', 'subscribe ', 'eval', '__proto__', 'constructor', 42, null, ['ping'], { type: 'ping' }, `ping${rng.pick(INJECTIONS)}`]) }, codes: ['unknown_type'] }
    case 3: {
      const topics = rng.pick<unknown>([undefined, null, [], 42, {}, [42], [null], [''], ['a//b'], ['**/a'], ['a/**/b'], ['x'.repeat(257)], [`a${rng.pick(CONTROL_CHARACTERS)}`], [`a${rng.pick(INJECTIONS)}b`]])
      return { why: 'subscribe with bad topics', message: { type: rng.pick(['subscribe', 'unsubscribe']), topics }, codes: ['invalid_selector'] }
    }
    case 4:
      return { why: 'subscribe to too many topics', message: { type: 'subscribe', topics: Array.from({ length: rng.int(65, 500) }, (_, i) => `t/${i}`) }, codes: ['too_many_topics'] }
    case 5: {
      const lastEventId = rng.pick<unknown>([42, true, {}, [], ['1-0'], '1', '-1-0', '1-0x', `1-0${rng.pick(INJECTIONS)}`, '9'.repeat(16) + '-0', 'x'.repeat(5000), ' 1-0'])
      return { why: 'subscribe with an absurd lastEventId', message: { type: 'subscribe', topics: ['hostile/a'], lastEventId }, codes: ['invalid_last_event_id'] }
    }
    case 6:
    case 7: {
      const bad = badField(rng)
      const message: Record<string, unknown> = { type: 'publish', topic: 'hostile/ws', data: 'fine' }
      if (bad.field === 'data' && bad.value === undefined) delete message.data
      else message[bad.field] = bad.value
      return { why: `publish: ${bad.why}`, message, codes: bad.codes }
    }
    case 8:
      return { why: 'publish with prototype keys', message: `{"type":"publish","topic":"hostile/ws","__proto__":{"data":"x","event":"evil\\nid: 1"},"ref":"${rng.string(5, SAFE)}"}`, codes: ['unknown_field'] }
    default:
      return { why: 'wrong field types', message: { type: 'publish', topic: rng.pick(WRONG), data: 1 }, codes: ['invalid_topic'] }
  }
}

test(`${CASES} hostile WebSocket messages (seed ${SEED})`, async () => {
  const rng = new Rng(SEED ^ 0x77)
  const harness = await hostileServer()
  const ws = await WsClient.open(`${harness.server.wsBase}/ws`)
  const failures: string[] = []
  await harness.publishValid(rng)

  for (let n = 0; n < CASES; n++) {
    const c = wsCase(rng)
    const ref = typeof c.message === 'string' ? undefined : `r${n}`
    const text = typeof c.message === 'string' ? c.message : JSON.stringify({ ...c.message, ref })
    const label = `ws case #${n} (${c.why}): ${JSON.stringify(text.slice(0, 100))}`
    const before = ws.messages.length
    // Event-driven rather than polled: 1,500 round trips must not each wait for a poll tick.
    const answered = new Promise((resolve) => {
      ws.socket.addEventListener('message', resolve, { once: true })
      ws.socket.addEventListener('close', resolve, { once: true })
    })
    ws.send(text)
    await Promise.race([answered, Bun.sleep(5000)])
    await waitFor(() => ws.messages.length > before || ws.closeCode !== undefined, `an answer to ${label}`)
    const reply = ws.messages[before]
    if (ws.closeCode !== undefined) {
      failures.push(`${label} → socket closed with ${ws.closeCode}`)
      break
    }
    if (reply?.type !== 'error' || !c.codes.includes(reply.code as string) || (ref !== undefined && reply.ref !== ref)) {
      failures.push(`${label} → ${JSON.stringify(reply).slice(0, 200)}; expected error ${c.codes.join('/')}`)
    }
    await harness.healthy(label)
    if (n % 25 === 0) await harness.publishValid(rng)
  }
  // The socket is still usable after all of it.
  expect((await ws.request({ type: 'ping' })).type).toBe('pong')
  ws.close()
  expect(failures).toEqual([])
  await harness.finish()
}, 60_000)

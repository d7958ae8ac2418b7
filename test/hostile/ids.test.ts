/**
 * Hostile event ids, generated from a seed: ids near and past every boundary of the id space
 * (digit counts, the safe-integer edge, 15 and 16 digits, far-future and far-past times, just
 * inside and just outside --max-id-skew, leading zeros, signs, spaces, exponents, non-ASCII digits)
 * are published (HTTP, batch, WebSocket) and used as resume positions (Last-Event-ID header,
 * ?lastEventId=, WebSocket subscribe). Each answer is checked against an oracle written here with
 * BigInt, independently of src/. The invariant: every id the server ever sends (publish answers,
 * SSE `id:` lines, resets, WebSocket events, /stats, the feed page's sse-connect URL) parses with
 * the server's own parser, and a resume from it over SSE and WebSocket works.
 */
import { expect, test } from 'bun:test'
import { parseEventId } from '../../src/hub/id'
import { SseClient, waitFor, WsClient } from '../helpers'
import { fetchStats } from '../stats'
import { hostileServer } from './harness'
import { Rng, SEED } from './prng'

const CASES = 500
const SKEW = 60_000
/** Ids this close to the skew bound are not generated: the test's clock and the server's may differ by a few ms. */
const MARGIN = 2_000
const TOPIC = 'hostile/ids'
const MAX = 2n ** 53n - 1n
const EDGES = ['0', '1', '9', '10', '999999999999999', '1000000000000000', String(MAX - 1n), String(MAX), String(MAX + 1n), String(MAX + 2n), '9999999999999999', '18446744073709551615', `1${'0'.repeat(20)}`]

function digits(rng: Rng, count: number): string {
  return `${rng.int(1, 9)}${rng.string(count - 1, '0123456789')}`
}

function msPart(rng: Rng): string {
  const now = Date.now()
  switch (rng.int(0, 6)) {
    case 0:
      return String(now + rng.int(-(SKEW - MARGIN), SKEW - MARGIN))
    case 1:
      return String(now + (rng.chance(0.5) ? 1 : -1) * (SKEW + MARGIN + rng.int(0, 10_000)))
    case 2:
      return String(BigInt(now) + BigInt(rng.int(1, 1000)) * 86_400_000n * BigInt(rng.pick([1, 365, 365_000, 365_000_000])))
    case 3:
      return rng.pick(EDGES)
    case 4:
      return digits(rng, rng.int(1, 20))
    case 5:
      return String(now + SKEW - MARGIN)
    default:
      return String(now)
  }
}

function seqPart(rng: Rng): string {
  switch (rng.int(0, 3)) {
    case 0:
      return String(rng.int(0, 3))
    case 1:
      return String(rng.int(0, 1_000_000))
    case 2:
      return rng.pick(EDGES)
    default:
      return digits(rng, rng.int(1, 20))
  }
}

/** An id text: mostly well spelled, sometimes in one of the spellings the id space refuses. */
function idText(rng: Rng): string {
  const ms = msPart(rng)
  const seq = seqPart(rng)
  if (rng.chance(0.75)) return `${ms}-${seq}`
  const fullwidth = (text: string) => [...text].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('')
  return rng.pick([
    `0${ms}-${seq}`,
    `${ms}-0${seq}`,
    `00-${seq}`,
    `+${ms}-${seq}`,
    `${ms}-+${seq}`,
    `-${ms}-${seq}`,
    `${ms}--${seq}`,
    `${ms}-${seq}-0`,
    ` ${ms}-${seq}`,
    `${ms}-${seq} `,
    `${ms} -${seq}`,
    `${ms}-${seq}\t`,
    `${Number(ms).toExponential()}-${seq}`,
    `${ms}.0-${seq}`,
    `${ms}-${seq}.5`,
    `0x${Number(ms).toString(16)}-${seq}`,
    `${fullwidth(ms)}-${seq}`,
    `${ms}-${'\u0660'.repeat(2)}`,
    `${ms}_${seq}`,
    `${ms}`,
    `${ms}-`,
  ])
}

/** The oracle: the id as two BigInts when it is in the documented id space, else undefined. */
function oracle(text: string): { ms: bigint; seq: bigint } | undefined {
  const match = /^(0|[1-9][0-9]*)-(0|[1-9][0-9]*)$/.exec(text)
  if (!match) return undefined
  const ms = BigInt(match[1] as string)
  const seq = BigInt(match[2] as string)
  return ms <= MAX && seq <= MAX ? { ms, seq } : undefined
}

const greater = (a: { ms: bigint; seq: bigint }, b: { ms: bigint; seq: bigint }) => a.ms > b.ms || (a.ms === b.ms && a.seq > b.seq)

test(`${CASES} hostile ids published and resumed from; every id the server sends parses and resumes (seed ${SEED})`, async () => {
  const rng = new Rng(SEED ^ 0x1d5)
  const startedBefore = Date.now()
  const harness = await hostileServer({ maxIdSkewMs: SKEW, feedDb: ':memory:' })
  const startedAfter = Date.now()
  const { base, wsBase } = harness.server
  const failures: string[] = []
  /** Every id the server sent, with where it was seen. */
  const sent = new Map<string, string>()
  const saw = (id: unknown, where: string) => {
    if (typeof id !== 'string') failures.push(`${where}: an id that is not a string: ${JSON.stringify(id)}`)
    else if (!sent.has(id)) sent.set(id, where)
  }
  const publisher = await WsClient.open(`${wsBase}/ws`)
  await harness.publishValid(rng)
  const head = () => oracle(harness.accepted.at(-1)?.id as string) as { ms: bigint; seq: bigint }

  /** Publishes `text` as an id; returns the status and error code. */
  const publishWith = async (text: string, value: string): Promise<{ status: number; code?: string; id?: string }> => {
    switch (rng.int(0, 2)) {
      case 0:
      case 1: {
        const batch = rng.chance(0.5)
        const response = await fetch(`${base}${batch ? '/publish' : `/topics/${TOPIC}`}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(batch ? [{ topic: TOPIC, data: value, id: text }] : { data: value, id: text }),
        })
        const body = (await response.json()) as { id?: string; events?: { id: string }[]; error?: { code: string } }
        return { status: response.status, code: body.error?.code, id: body.id ?? body.events?.[0]?.id }
      }
      default: {
        const reply = await publisher.request({ type: 'publish', topic: TOPIC, data: value, id: text })
        if (reply.type === 'published') return { status: 200, id: reply.id as string }
        return { status: reply.type === 'error' ? 400 : 0, code: reply.code as string }
      }
    }
  }

  /** Resumes from `text` over a random channel; checks the answer against the oracle; records ids seen. */
  const resumeFrom = async (text: string, label: string): Promise<void> => {
    const id = oracle(text)
    const mine = harness.accepted.filter((event) => event.topic === TOPIC)
    // Reset: past the head, or before the history's floor (the server's start); in between, a replay.
    const current = head()
    const resets = id && (greater(id, current) || id.ms < BigInt(startedBefore))
    const unsure = id && !resets && id.ms <= BigInt(startedAfter)
    const expected = id ? mine.filter((event) => greater(oracle(event.id) as { ms: bigint; seq: bigint }, id)) : []
    const channel = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(text) ? rng.int(0, 2) : rng.int(1, 2)
    if (channel === 2) {
      const ws = await WsClient.open(`${wsBase}/ws`)
      const reply = await ws.request({ type: 'subscribe', topics: [TOPIC], lastEventId: text })
      if (!id) {
        if (reply.type !== 'error' || reply.code !== 'invalid_last_event_id') failures.push(`${label} over WebSocket → ${JSON.stringify(reply)}; expected error invalid_last_event_id`)
      } else if (reply.type !== 'subscribed') {
        failures.push(`${label} over WebSocket → ${JSON.stringify(reply)}; expected subscribed`)
      } else {
        const want = resets ? 1 : expected.length
        await waitFor(() => ws.ofType('event').length + ws.ofType('reset').length >= want, `${label}: ${want} replayed over WebSocket`)
        for (const message of ws.ofType('event')) saw(message.id, `${label}: WebSocket event`)
        for (const message of ws.ofType('reset')) saw(message.head, `${label}: WebSocket reset`)
        const gotReset = ws.ofType('reset').length > 0
        if (!unsure && gotReset !== Boolean(resets)) failures.push(`${label} over WebSocket → reset ${gotReset}; expected ${Boolean(resets)}`)
        if (!gotReset && JSON.stringify(ws.ofType('event').map((m) => m.id)) !== JSON.stringify(expected.map((e) => e.id))) {
          failures.push(`${label} over WebSocket replayed ${JSON.stringify(ws.ofType('event').map((m) => m.id))}; expected ${JSON.stringify(expected.map((e) => e.id))}`)
        }
      }
      ws.close()
      return
    }
    const url = channel === 1 ? `${base}/events?topic=${TOPIC}&lastEventId=${encodeURIComponent(text)}` : `${base}/events?topic=${TOPIC}`
    const sse = await SseClient.open(url, channel === 0 ? { 'last-event-id': text } : {})
    if (!id) {
      if (sse.status !== 400 || !sse.raw.includes('"invalid_last_event_id"')) failures.push(`${label} over SSE → ${sse.status} ${sse.raw.slice(0, 120)}; expected 400 invalid_last_event_id`)
      return
    }
    if (sse.status !== 200) {
      failures.push(`${label} over SSE → ${sse.status} ${sse.raw.slice(0, 200)}; expected 200`)
      return
    }
    const want = resets ? 1 : expected.length
    if (want > 0) await sse.waitForMessages(want)
    else await waitFor(() => sse.raw.startsWith('retry:'), `${label}: the stream to open`)
    sse.close()
    for (const message of sse.messages) {
      saw(message.id, `${label}: SSE ${message.event}`)
      if (message.event === 'reset') saw((JSON.parse(message.data) as { head: unknown }).head, `${label}: SSE reset data`)
    }
    const gotReset = sse.messages.some((message) => message.event === 'reset')
    if (!unsure && gotReset !== Boolean(resets)) failures.push(`${label} over SSE → reset ${gotReset}; expected ${Boolean(resets)}`)
    if (!gotReset && JSON.stringify(sse.messages.map((m) => m.id)) !== JSON.stringify(expected.map((e) => e.id))) {
      failures.push(`${label} over SSE replayed ${JSON.stringify(sse.messages.map((m) => m.id))}; expected ${JSON.stringify(expected.map((e) => e.id))}`)
    }
  }

  const cases = ['999999999999999-999999999999999', '999999999999999-1000000000000000', `${Date.now() + SKEW - MARGIN}-${MAX}`]
  for (let n = 0; n < CASES; n++) {
    const text = cases[n] ?? idText(rng)
    const label = `case #${n} ${JSON.stringify(text)}`
    const id = oracle(text)
    const value = `value ${n}`
    const result = await publishWith(text, value)
    const drift = id ? Number(id.ms - BigInt(Date.now())) : 0
    const expected = !id ? 'invalid_id' : !greater(id, head()) ? 'id_not_increasing' : Math.abs(drift) <= SKEW - MARGIN ? 'ok' : Math.abs(drift) >= SKEW + MARGIN ? 'invalid_id' : 'either'
    if (result.status === 200) {
      saw(result.id, `${label}: publish answer`)
      if (expected !== 'ok' && expected !== 'either') failures.push(`${label} published as ${result.id}; expected ${expected}`)
      else if (result.id !== text) failures.push(`${label} published as ${result.id}; expected the id as given`)
      else harness.accepted.push({ id: text, topic: TOPIC, value })
    } else if (expected === 'ok' || (expected !== 'either' && result.code !== expected) || (expected === 'either' && result.code !== 'invalid_id')) {
      failures.push(`${label} → ${result.status} ${result.code}; expected ${expected}`)
    }
    if (rng.chance(0.5)) await resumeFrom(text, `${label} as a resume position`)
    if (n % 10 === 0) await harness.publishValid(rng)
    await harness.healthy(label)
  }

  // Every id the server ever sent: the publish answers and live events, /stats and the feed page too.
  for (const event of harness.accepted) saw(event.id, 'a publish answer')
  saw((await fetchStats(base)).head, '/stats head')
  const page = await (await fetch(`${base}/feed`)).text()
  saw(decodeURIComponent(/sse-connect="[^"]*lastEventId=([^"&]+)"/.exec(page)?.[1] ?? '(none)'), 'the feed page sse-connect URL')
  for (const [id, where] of sent) {
    try {
      parseEventId(id, 'invalid_last_event_id')
    } catch (error) {
      failures.push(`${where}: the server sent ${JSON.stringify(id)}, which its own parser refuses: ${(error as Error).message}`)
      continue
    }
    if (rng.chance(0.25)) await resumeFrom(id, `resume from ${JSON.stringify(id)} (${where})`)
  }
  publisher.close()
  expect(failures).toEqual([])
  expect(sent.size).toBeGreaterThan(CASES / 10)
  await harness.finish()
}, 60_000)

/**
 * Hostile HTTP input, generated from a seed: malformed JSON, wrong types, huge and deeply nested
 * payloads, invalid UTF-8, control characters and CR/LF in topics, event names and ids, absurd
 * resume positions. Every case must get a 4xx JSON error (or, for a well-formed but unknown resume
 * position, the documented `reset`), /healthz must answer after each, and no event accepted along
 * the way may be lost or altered (harness.ts).
 */
import { expect, test } from 'bun:test'
import { httpCase, subscribeCase } from './corpus'
import { hostileServer } from './harness'
import { Rng, SEED } from './prng'

const PUBLISH_CASES = 2500
const SUBSCRIBE_CASES = 600

async function errorCode(response: Response): Promise<string | undefined> {
  const text = await response.text()
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code
  } catch {
    return `(not JSON: ${text.slice(0, 80)})`
  }
}

test(`${PUBLISH_CASES} hostile publishes and ${SUBSCRIBE_CASES} hostile subscribes (seed ${SEED})`, async () => {
  const rng = new Rng(SEED)
  const harness = await hostileServer()
  const { base } = harness.server
  const failures: string[] = []
  await harness.publishValid(rng)

  for (let n = 0; n < PUBLISH_CASES; n++) {
    const c = httpCase(rng)
    const label = `publish case #${n} (${c.why}): ${c.method} ${c.path.slice(0, 80)} ${typeof c.body === 'string' ? JSON.stringify(c.body.slice(0, 80)) : `<${c.body?.byteLength} bytes>`}`
    const response = await fetch(`${base}${c.path}`, { method: c.method, headers: c.headers, body: c.body as BodyInit | undefined })
    const code = await errorCode(response)
    if (!c.statuses.includes(response.status) || (c.codes && !c.codes.includes(code ?? ''))) {
      failures.push(`${label} → ${response.status} ${code}; expected ${c.statuses.join('/')} ${c.codes?.join('/')}`)
    }
    await harness.healthy(label)
    if (n % 25 === 0) await harness.publishValid(rng)
  }

  for (let n = 0; n < SUBSCRIBE_CASES; n++) {
    const c = subscribeCase(rng)
    const label = `subscribe case #${n} (${c.why}): ?${c.query.slice(0, 80)} ${JSON.stringify(c.headers).slice(0, 80)}`
    const controller = new AbortController()
    const response = await fetch(`${base}/events?${c.query}`, { headers: c.headers, signal: controller.signal })
    if (c.expect === 'error') {
      const code = await errorCode(response)
      if (response.status !== 400 || !c.codes.includes(code ?? '')) failures.push(`${label} → ${response.status} ${code}; expected 400 ${c.codes.join('/')}`)
    } else {
      // Read up to the reset event, then hang up.
      const reader = response.body?.getReader()
      let text = ''
      while (reader && !text.includes('event: reset\n')) {
        const { done, value } = await reader.read()
        if (done) break
        text += new TextDecoder().decode(value)
      }
      controller.abort()
      if (response.status !== 200 || !/^retry: \d+\n\nid: \d+-\d+\nevent: reset\ndata: \{.*\}\n\n/.test(text)) failures.push(`${label} → ${response.status} ${JSON.stringify(text.slice(0, 200))}; expected a reset`)
    }
    await harness.healthy(label)
    if (n % 25 === 0) await harness.publishValid(rng)
  }

  expect(failures).toEqual([])
  await harness.finish()
}, 60_000)

/**
 * Hostile bytes below the HTTP layer fetch allows: malformed request lines and headers, CR/LF and
 * NUL in headers, lying or conflicting lengths (request smuggling), broken chunked bodies, and
 * slowloris-style partial requests. Each must be refused (a 4xx or a closed connection, never a
 * 2xx or 5xx), /healthz must stay fast, and nothing may be published (harness.ts).
 */
import { expect, test } from 'bun:test'
import { RawClient } from '../raw'
import { hostileServer } from './harness'
import { INJECTIONS, Rng, SEED } from './prng'

const IDLE_TIMEOUT_S = 2

interface RawCase {
  why: string
  request: string | Uint8Array
}

const publishLine = 'POST /topics/hostile/raw HTTP/1.1\r\nHost: herald.test\r\nContent-Type: application/json\r\n'
const body = '{"data":"smuggled"}'

function rawCase(rng: Rng): RawCase {
  switch (rng.int(0, 10)) {
    case 0:
      return { why: 'malformed request line', request: `${rng.pick(['GARBAGE', 'GET', 'GET /', 'GET / HTTP/9.9', 'GET  / HTTP/1.1', 'G\0ET / HTTP/1.1', ' GET / HTTP/1.1', 'GET /events?topic=a\nHTTP/1.1'])}\r\nHost: herald.test\r\n\r\n` }
    case 1:
      return { why: 'bare LF or CR inside a header', request: `GET /events?topic=hostile/a HTTP/1.1\r\nHost: herald.test\r\nLast-Event-ID: 1-0${rng.pick(['\r', '\0', '\x7f'])}event: reset\r\n\r\n` }
    case 2:
      return { why: 'header without a colon or with a space before it', request: `GET /healthz HTTP/1.1\r\nHost: herald.test\r\n${rng.pick(['NoColonHere', 'Bad Name: x', 'X-A : b', ': empty name'])}\r\n\r\n` }
    case 3:
      return { why: 'obsolete header folding', request: `GET /events?topic=hostile/a HTTP/1.1\r\nHost: herald.test\r\nLast-Event-ID: 1-0\r\n ${rng.pick(INJECTIONS).replace(/[\r\n]/g, '')}folded\r\n\r\n` }
    case 4:
      return { why: 'negative or non-numeric Content-Length', request: `${publishLine}Content-Length: ${rng.pick(['-1', 'abc', '1e3', '0x10', '18446744073709551616', ' ', '+19'])}\r\n\r\n${body}` }
    case 5:
      return { why: 'two different Content-Lengths', request: `${publishLine}Content-Length: ${body.length}\r\nContent-Length: ${body.length + rng.int(1, 10)}\r\n\r\n${body}` }
    case 6:
      return { why: 'Content-Length and Transfer-Encoding together (smuggling)', request: `${publishLine}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${publishLine}Content-Length: ${body.length}\r\n\r\n${body}` }
    case 7:
      return { why: 'broken chunked body', request: `${publishLine}Transfer-Encoding: chunked\r\n\r\n${rng.pick(['zz\r\nabc\r\n0\r\n\r\n', '5\r\nab\r\n0\r\n\r\n', '-1\r\n\r\n', `${'f'.repeat(20)}\r\nx\r\n`, '3\r\nabcdef\r\n0\r\n\r\n'])}` }
    case 8:
      return { why: 'unknown Transfer-Encoding', request: `${publishLine}Transfer-Encoding: ${rng.pick(['gzip', 'chunked, identity', 'xchunked', 'chunked\0'])}\r\n\r\n3\r\nabc\r\n0\r\n\r\n` }
    case 9:
      return { why: 'a header far too large', request: `GET /healthz HTTP/1.1\r\nHost: herald.test\r\nX-Big: ${'a'.repeat(rng.int(70_000, 200_000))}\r\n\r\n` }
    default:
      return { why: 'invalid bytes in the path', request: new Uint8Array(Buffer.concat([Buffer.from('POST /topics/hostile/'), Buffer.from(rng.bytes(rng.int(1, 8)).map((b) => (b < 0x80 ? b | 0x80 : b))), Buffer.from(` HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}`)])) }
  }
}

test(`hostile raw HTTP and slowloris-style partial requests (seed ${SEED})`, async () => {
  const rng = new Rng(SEED ^ 0x477)
  const harness = await hostileServer({}, { idleTimeout: IDLE_TIMEOUT_S })
  const { base } = harness.server
  const failures: string[] = []
  await harness.publishValid(rng)

  for (let n = 0; n < 300; n++) {
    const c = rawCase(rng)
    const label = `raw case #${n} (${c.why})`
    const client = await RawClient.connect(base)
    client.write(c.request)
    await client.waitFor((raw) => raw.closed || /\r\n\r\n/.test(raw.text()), 'an answer or a close', 3000).catch(() => {})
    // Every response on the connection: none may be a success or a server error (505, "HTTP
    // version not supported", is the protocol's own answer to a bad version).
    const statuses = [...client.text().matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => Number(match[1]))
    if (statuses.some((status) => status < 400 || (status >= 500 && status !== 505))) failures.push(`${label} → ${statuses.join(', ')}: ${JSON.stringify(client.text().slice(0, 300))}`)
    if (statuses.length === 0 && !client.closed) failures.push(`${label} → no answer and the connection is still open after 3 s`)
    client.destroy()
    await harness.healthy(label)
    if (n % 10 === 0) await harness.publishValid(rng)
  }

  // Slowloris: 150 requests that stop half-way (in the head, or in a body shorter than promised)
  // and 30 that trickle their head a byte at a time. The server keeps answering others quickly and
  // cuts them all: a stalled body after the idle timeout, a head that is not complete after ~10 s
  // (uWebSockets' fixed header deadline in Bun 1.4.5), trickling or not.
  const stalled = await Promise.all(
    Array.from({ length: 150 }, async (_, i) => {
      const client = await RawClient.connect(base)
      client.write(i % 2 === 0 ? 'GET /events?topic=hostile/a HTTP/1.1\r\nHost: herald.te' : `${publishLine}Content-Length: 1000\r\n\r\n{"data": "only part of it`)
      return client
    }),
  )
  const tricklers = await Promise.all(Array.from({ length: 30 }, () => RawClient.connect(base)))
  const trickle = `GET /events?topic=hostile/a HTTP/1.1\r\nHost: herald.test\r\nX-Slow: ${'s'.repeat(200)}`
  const everyone = [...stalled, ...tricklers]
  let slowest = 0
  const deadline = Date.now() + 16_000
  for (let step = 0; everyone.some((client) => !client.closed) && Date.now() < deadline; step++) {
    for (const client of tricklers) if (!client.closed) client.write(trickle[step % trickle.length] as string)
    const started = performance.now()
    await harness.healthy(`slowloris step ${step}`)
    slowest = Math.max(slowest, performance.now() - started)
    await Bun.sleep(200)
  }
  expect(stalled.filter((client) => !client.closed).length).toBe(0)
  expect(tricklers.filter((client) => !client.closed).length).toBe(0)
  expect(slowest).toBeLessThan(250)
  for (const client of everyone) client.destroy()
  await harness.healthy('the slowloris clients')

  expect(failures).toEqual([])
  await harness.finish()
}, 60_000)

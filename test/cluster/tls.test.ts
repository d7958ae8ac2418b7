/**
 * `--redis rediss://…`: Herald talks TLS to Redis and verifies its certificate (against the
 * system's CAs, plus NODE_EXTRA_CA_CERTS). A redis-server with TLS and a throwaway CA made with
 * openssl, both started by the test.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { runCli, startCli } from '../cli'
import { waitFor } from '../helpers'
import { freePort, uniquePrefix } from '../redis/redis'
import { HERALD, post, ResumingSse } from './cluster'

let dir: string
let redis: Subprocess | undefined
const port = freePort()

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-redis-tls-'))
  const sh = (args: string[]) => {
    const result = Bun.spawnSync(['openssl', ...args], { cwd: dir, stdout: 'ignore', stderr: 'pipe' })
    if (result.exitCode !== 0) throw new Error(`openssl ${args[0]}: ${result.stderr.toString()}`)
  }
  sh(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=herald-test-ca'])
  sh(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'])
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n')
  sh(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf'])
  redis = Bun.spawn(['redis-server', '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', 'server.pem', '--tls-key-file', 'server.key', '--tls-ca-cert-file', 'ca.pem', '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no'], { cwd: dir, stdout: 'ignore', stderr: 'ignore' })
  await waitFor(async () => {
    try {
      const socket = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } })
      socket.end()
      return true
    } catch {
      return false
    }
  }, 'the TLS redis-server')
})

afterAll(async () => {
  redis?.kill('SIGKILL')
  await redis?.exited
  rmSync(dir, { recursive: true, force: true })
})

test('rediss:// with the CA trusted: a node publishes and delivers through TLS', async () => {
  const node = await startCli(HERALD, ['--redis', `rediss://127.0.0.1:${port}`, '--redis-prefix', uniquePrefix('tls')], { NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') })
  try {
    const sse = new ResumingSse(() => node.base, 'topic=tls')
    await waitFor(() => sse.live, 'subscriber live')
    const { status, body } = await post(node.base, 'tls', { data: 'over TLS' })
    expect(status).toBe(200)
    await waitFor(() => sse.received.length === 1, 'delivered')
    expect(sse.received[0]).toEqual({ id: body.id as string, data: 'over TLS' })
    await sse.stop()
  } finally {
    node.child.kill('SIGKILL')
  }
}, 20_000)

test('rediss:// to a server whose certificate is not trusted is refused at start (exit 5)', async () => {
  const result = await runCli(HERALD, ['--host', '127.0.0.1', '--port', '0', '--feed-db', ':memory:', '--redis', `rediss://127.0.0.1:${port}`, '--redis-timeout', '1s'])
  expect(result.code).toBe(5)
  expect(result.stderr).toContain(`cannot reach Redis rediss://127.0.0.1:${port}`)
})

/**
 * The README's host-app snippet, run as written: extracted from README.md, written into the repo
 * (test-artifacts/, git-ignored) so `import … from 'herald'` resolves by self-reference, started
 * with bun on port 0, exercised over HTTP, and type-checked with the repo's tsconfig.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { SseClient, waitFor } from '../helpers'

const ROOT = join(import.meta.dir, '../..')
const DIR = join(ROOT, 'test-artifacts')
const SNIPPET = join(DIR, 'readme-host-app.ts')

/** The ```ts block right after `<!-- readme-snippet: NAME … -->` in README.md. */
async function readmeSnippet(name: string): Promise<string> {
  const readme = await Bun.file(join(ROOT, 'README.md')).text()
  const marker = readme.indexOf(`<!-- readme-snippet: ${name} `)
  if (marker === -1) throw new Error(`README.md has no <!-- readme-snippet: ${name} --> marker`)
  const block = /^```ts\n([\s\S]*?)^```$/m.exec(readme.slice(marker))
  if (!block?.[1]) throw new Error(`no \`\`\`ts block after the ${name} marker`)
  return block[1]
}

let child: Subprocess<'ignore', 'pipe', 'pipe'> | undefined
let base = ''
let stderr = ''

beforeAll(async () => {
  const snippet = await readmeSnippet('host-app')
  // The README listens on 3000; the test takes any free port and needs to know which.
  expect(snippet).toContain('const app = new Elysia()')
  expect(snippet.match(/\.listen\(3000\)/g)).toHaveLength(1)
  const runnable = `${snippet.replace('.listen(3000)', ".listen({ port: 0, hostname: '127.0.0.1' })")}\nconsole.log(\`port=\${app.server?.port}\`)\n`
  mkdirSync(DIR, { recursive: true })
  writeFileSync(SNIPPET, runnable)
  child = Bun.spawn(['bun', SNIPPET], { cwd: ROOT, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const output = { stdout: '' }
  const stdout = child.stdout
  void (async () => {
    const decoder = new TextDecoder()
    const reader = stdout.getReader()
    for (let read = await reader.read(); !read.done; read = await reader.read()) output.stdout += decoder.decode(read.value, { stream: true })
  })().catch(() => {})
  void new Response(child.stderr).text().then((text) => (stderr = text))
  const port = (await waitFor(() => /port=(\d+)/.exec(output.stdout)?.[1] ?? (child?.exitCode !== null ? 'exited' : undefined), 'the snippet to print its port', 15_000)) as string
  if (port === 'exited') throw new Error(`the README snippet did not start: ${stderr}`)
  base = `http://127.0.0.1:${port}`
})

afterAll(async () => {
  child?.kill('SIGKILL')
  await child?.exited
})

test('the snippet serves its live route: the event POST /orders/1/ship publishes, then multi-line data framed line by line', async () => {
  const live = await SseClient.open(`${base}/orders/1/live`)
  expect(live.status).toBe(200)
  expect(live.headers.get('content-type')).toStartWith('text/event-stream')
  await waitFor(() => live.raw.startsWith('retry:'), 'the stream to start')

  const shipped = await fetch(`${base}/orders/1/ship`, { method: 'POST' })
  expect(shipped.status).toBe(200)
  const { id, topic } = (await shipped.json()) as { id: string; topic: string }
  expect(topic).toBe('orders/1')
  expect(await live.waitForMessages(1)).toEqual([{ id, event: 'message', data: '{"status":"shipped"}' }])
  expect(live.raw).toContain(`id: ${id}\ndata: {"status":"shipped"}\n\n`)

  // Herald's own publish API, mounted at /rt by the snippet: a text payload of three lines.
  const note = await fetch(`${base}/rt/topics/orders/1`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'one\ntwo\r\nthree' })
  expect(note.status).toBe(200)
  const noteId = ((await note.json()) as { id: string }).id
  expect((await live.waitForMessages(2))[1]).toEqual({ id: noteId, event: 'message', data: 'one\ntwo\nthree' })
  expect(live.raw).toContain(`id: ${noteId}\ndata: one\ndata: two\ndata: three\n\n`)
  live.close()

  // Resume after the first event: exactly the second, then live ones.
  const resumed = await SseClient.open(`${base}/orders/1/live`, { 'last-event-id': id })
  expect((await resumed.waitForMessages(1))[0]).toEqual({ id: noteId, event: 'message', data: 'one\ntwo\nthree' })
  const again = (await (await fetch(`${base}/orders/1/ship`, { method: 'POST' })).json()) as { id: string }
  expect((await resumed.waitForMessages(2)).map((event) => event.id)).toEqual([noteId, again.id])
  resumed.close()
})

test('the snippet type-checks with the repo tsconfig (strict)', async () => {
  const config = join(DIR, 'tsconfig.readme.json')
  writeFileSync(config, JSON.stringify({ extends: '../tsconfig.json', include: ['readme-host-app.ts'] }))
  const tsc = Bun.spawn([join(ROOT, 'node_modules/.bin/tsc'), '--noEmit', '-p', config], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  const [out, code] = await Promise.all([new Response(tsc.stdout).text(), tsc.exited])
  expect(out).toBe('')
  expect(code).toBe(0)
}, 60_000)

import { expect, test } from 'bun:test'
import { Glob } from 'bun'

// DESIGN.md: the hub is the core and imports nothing from Elysia, Bun's server, Redis or SQLite, so
// it can be tested and reused without HTTP.
test('src/hub imports nothing from the web framework, the server or storage', async () => {
  const offenders: string[] = []
  for await (const file of new Glob('src/hub/**/*.ts').scan('.')) {
    const source = await Bun.file(file).text()
    for (const match of source.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
      const target = match[1] as string
      if (/^(elysia|@elysiajs|bun|bun:sqlite)$|^\.\.\/(transports|api|demos)/.test(target)) offenders.push(`${file} → ${target}`)
    }
  }
  expect(offenders).toEqual([])
})

// The client is served to browsers as one module built from src/client/: whatever it takes from the
// server must be a type (erased), never code, and it may use no package at run time.
test('src/client imports only types from outside src/client', async () => {
  const offenders: string[] = []
  for await (const file of new Glob('src/client/**/*.ts').scan('.')) {
    const source = await Bun.file(file).text()
    for (const match of source.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+['"]([^'"]+)['"]/gm)) {
      const [, , typeOnly, target] = match as unknown as [string, string, string | undefined, string]
      if (!typeOnly && !target.startsWith('./')) offenders.push(`${file} → ${target}`)
    }
  }
  expect(offenders).toEqual([])
})

// DESIGN.md: token verification knows nothing of transports. src/auth turns tokens into principals;
// the edges (plugin routes, SSE, WebSocket) find the token and use the principal.
test('src/auth imports nothing from the web framework, the transports, the routes or the server', async () => {
  const offenders: string[] = []
  for await (const file of new Glob('src/auth/**/*.ts').scan('.')) {
    const source = await Bun.file(file).text()
    for (const match of source.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
      const target = match[1] as string
      if (/^(elysia|@elysiajs\/.*|bun:sqlite)$|^\.\.\/(transports|api|demos|plugin|runtime|server|history|broker)\b/.test(target)) offenders.push(`${file} → ${target}`)
    }
  }
  expect(offenders).toEqual([])
})

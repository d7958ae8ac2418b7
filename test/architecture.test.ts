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

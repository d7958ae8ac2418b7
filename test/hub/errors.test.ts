/**
 * One list of error codes (src/hub/errors.ts ERROR_STATUS): every code src/ can send is in it, every
 * code in it is sent somewhere, and the README's error table shows each with its status.
 */
import { expect, test } from 'bun:test'
import { Glob } from 'bun'
import { STATUS_BY_CODE } from '../../src/api/errors'
import { ERROR_STATUS, type HubErrorCode } from '../../src/hub/errors'

const LISTED = Object.keys(ERROR_STATUS) as HubErrorCode[]

/** Source files other than the list itself, with their text. */
async function sources(): Promise<[string, string][]> {
  const files: [string, string][] = []
  for await (const file of new Glob('src/**/*.ts').scan('.')) if (file !== 'src/hub/errors.ts') files.push([file, await Bun.file(file).text()])
  return files
}

test('every code src/ sends is in the one list', async () => {
  const sent = new Map<string, string>()
  const nonLiteral: string[] = []
  for (const [file, text] of await sources()) {
    // errorBody('code', …), new HubError('code', …), and parameters typed as code unions (`code: 'a' | 'b'`).
    for (const match of text.matchAll(/(?:errorBody|HubError)\(\s*'([^']+)'/g)) sent.set(match[1] as string, file)
    for (const match of text.matchAll(/\bcode(?:\?)?:\s*((?:'[a-z_]+'\s*\|?\s*)+)/g)) for (const code of (match[1] as string).matchAll(/'([a-z_]+)'/g)) sent.set(code[1] as string, file)
    // Otherwise the code is a typed variable (a parameter above, or a HubError's own code).
    for (const match of text.matchAll(/(?<!function )(?:errorBody|new HubError)\(\s*([^'\s][^,)]*)/g)) nonLiteral.push(`${file}: ${match[1]}`)
  }
  expect(nonLiteral.filter((call) => !/: (code|hubError\.code|this\.code)$/.test(call))).toEqual([])
  expect(sent.size).toBeGreaterThan(20)
  // Where a route sets the status by hand just before the body, it is the list's.
  const byHand: string[] = []
  for (const [file, text] of await sources()) {
    for (const match of text.matchAll(/status = (\d{3})\s*\n\s*return errorBody\('([a-z_]+)'/g)) {
      if (ERROR_STATUS[match[2] as HubErrorCode] !== Number(match[1])) byHand.push(`${file}: ${match[2]} sent with ${match[1]}`)
    }
  }
  expect(byHand).toEqual([])
  expect([...sent].filter(([code]) => !(code in ERROR_STATUS)).map(([code, file]) => `${code} (${file})`)).toEqual([])
})

test('every listed code is sent somewhere (the list holds no stale code)', async () => {
  const text = (await sources()).map(([, source]) => source).join('\n')
  expect(LISTED.filter((code) => !text.includes(`'${code}'`))).toEqual([])
})

test('the HTTP edge sends each code with the status the list gives', () => {
  expect(STATUS_BY_CODE).toBe(ERROR_STATUS)
  for (const status of Object.values(ERROR_STATUS)) expect(status >= 400 && status < 600).toBe(true)
})

test("the README's error table lists every code under its status", async () => {
  const readme = await Bun.file('README.md').text()
  const rows = new Map<number, string>()
  for (const match of readme.matchAll(/^\| (\d{3}) \| (.+) \|$/gm)) rows.set(Number(match[1]), `${rows.get(Number(match[1])) ?? ''} ${match[2]}`)
  const misplaced = LISTED.filter((code) => !(rows.get(ERROR_STATUS[code]) ?? '').includes(`\`${code}\``))
  expect(misplaced).toEqual([])
  // And the table names no code the list does not have (the notes in parentheses name other things).
  const shown = [...rows.values()].flatMap((row) => [...row.replace(/\([^)]*\)/g, '').matchAll(/`([a-z_]+)`/g)].map((match) => match[1] as string))
  expect(shown.filter((code) => !(code in ERROR_STATUS))).toEqual([])
})

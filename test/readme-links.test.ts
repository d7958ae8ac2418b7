import { expect, test } from 'bun:test'
import { existsSync } from 'node:fs'

/** GitHub's heading anchor: lower case, punctuation dropped (but - and _), spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

test('every relative link in the README points to a file or a heading that exists', async () => {
  const readme = await Bun.file(new URL('../README.md', import.meta.url)).text()
  // Code blocks hold examples, not links.
  const prose = readme.replace(/```[\s\S]*?```/g, '')
  const anchors = new Set([...prose.matchAll(/^#{1,6} (.+)$/gm)].map((match) => slug(match[1] as string)))
  const links = [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] as string).filter((target) => !/^[a-z]+:/i.test(target))
  const broken = links.filter((target) => {
    const [path = '', anchor] = target.split('#')
    if (path !== '' && !existsSync(new URL(`../${path}`, import.meta.url))) return true
    return path === '' && anchor !== undefined && !anchors.has(anchor)
  })
  expect(broken).toEqual([])
  // Files named in the text without a link (`see docs/x.md`) must exist too.
  const named = [...prose.matchAll(/(?<![\w/])((?:[\w.-]+\/)*[\w.-]+\.md)\b/g)].map((match) => match[1] as string)
  expect(named.filter((path) => !existsSync(new URL(`../${path}`, import.meta.url)))).toEqual([])
  // The links this check was written for: sections that replaced docs/delivery.md and docs/demos.md.
  expect(links).toContain('#durable-history---store-sqlitepath')
  expect(links).toContain('#the-live-feed-feed')
})

/**
 * `bun run build` → dist/herald (this machine's platform); `bun run build:all` → one executable per
 * target Bun can cross-compile to. Minified, with bytecode (measured faster to start; see README).
 */
import { $ } from 'bun'

const TARGETS = ['bun-linux-x64', 'bun-linux-arm64', 'bun-darwin-arm64', 'bun-windows-x64'] as const

const all = process.argv.includes('--all')
const bytecode = !process.argv.includes('--no-bytecode')
const flags = ['--compile', '--minify', '--sourcemap=none', ...(bytecode ? ['--bytecode'] : [])]

if (!all) {
  const outfile = process.env.HERALD_BUILD_OUT ?? 'dist/herald'
  await $`bun build src/main.ts ${flags} --outfile ${outfile}`
  console.log(`built ${outfile}`)
} else {
  let failed = 0
  for (const target of TARGETS) {
    const outfile = `dist/herald-${target.replace(/^bun-/, '')}${target.includes('windows') ? '.exe' : ''}`
    const result = await $`bun build src/main.ts ${flags} --target=${target} --outfile ${outfile}`.nothrow()
    if (result.exitCode === 0) console.log(`built ${outfile}`)
    else {
      failed++
      console.error(`could not build ${target} (exit ${result.exitCode})`)
    }
  }
  process.exit(failed === 0 ? 0 : 1)
}

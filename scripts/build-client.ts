/**
 * Builds the browser client: src/client/index.ts → src/client/bundle/herald.js, one minified ES
 * module with no imports, which the server serves at /client/herald.js (src/api/pages.ts) and
 * embeds in the binary. The file is checked in so `bun run dev` needs no build step;
 * test/client/bundle.test.ts fails when it is out of date. Run: `bun scripts/build-client.ts`.
 */
import { join } from 'node:path'

const root = join(import.meta.dir, '..')
export const CLIENT_BUNDLE = join(root, 'src/client/bundle/herald.js')

/** The bundle's text, as this source tree builds it. */
export async function buildClient(): Promise<string> {
  const result = await Bun.build({ entrypoints: [join(root, 'src/client/index.ts')], target: 'browser', format: 'esm', minify: true, sourcemap: 'none' })
  if (!result.success || result.outputs.length !== 1) throw new AggregateError(result.logs, 'the client did not build')
  const code = await (result.outputs[0] as Blob).text()
  return `// Herald client: generated from src/client/ by scripts/build-client.ts; do not edit.\n${code}`
}

if (import.meta.main) {
  const code = await buildClient()
  await Bun.write(CLIENT_BUNDLE, code)
  console.log(`wrote ${CLIENT_BUNDLE}: ${code.length} bytes, ${Bun.gzipSync(code).length} gzipped`)
}

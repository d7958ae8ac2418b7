/**
 * The only module with side effects: read the command line, build the app, listen, and stop
 * cleanly on SIGINT / SIGTERM.
 */
import { createApp } from './app'
import { ConfigError, helpText, parseCommandLine, VERSION } from './config'

let command: ReturnType<typeof parseCommandLine>
try {
  command = parseCommandLine(Bun.argv.slice(2), process.env)
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(`herald: ${error.message}\nRun "herald --help" for the options.`)
  process.exit(2)
}

if (command.kind === 'help') {
  console.log(helpText())
  process.exit(0)
}
if (command.kind === 'version') {
  console.log(VERSION)
  process.exit(0)
}

const { app, options } = createApp(command.options)
app.listen({ port: options.port, hostname: options.host })
console.log(`herald ${VERSION} listening on http://${options.host}:${app.server?.port}`)

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) process.exit(1)
    stopping = true
    await app.stop()
    process.exit(0)
  })
}

/**
 * The only module with side effects: read the command line, build the app, listen, log, and shut
 * down gracefully on SIGINT / SIGTERM (exit 0; a second signal exits at once with 1).
 */
import { createApp } from './app'
import { changedOptions, ConfigError, helpText, parseCommandLine, VERSION } from './config'
import { createLogger } from './log'

let command: ReturnType<typeof parseCommandLine>
try {
  command = parseCommandLine(Bun.argv.slice(2), process.env)
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(`herald: ${error.message}\nRun "herald --help" to see every option.`)
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

const options = command.options
const log = createLogger(options.logLevel, options.logFormat)
const { app, shutdown } = createApp(options, log)
try {
  app.listen({ port: options.port, hostname: options.host })
} catch (error) {
  log.error('could not listen', { host: options.host, port: options.port, error })
  process.exit(1)
}
const address = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${app.server?.port}`
log.info('herald started', { address, version: VERSION, pid: process.pid, ...changedOptions(options) })

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1)
    stopping = true
    log.info('signal received', { signal })
    shutdown()
      .then(() => {
        log.info('stopped')
        process.exit(0)
      })
      .catch((error) => {
        log.error('shutdown failed', { error })
        process.exit(1)
      })
  })
}

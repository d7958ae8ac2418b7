/**
 * The only module with side effects: read the command line, build the app, listen, log, and shut
 * down gracefully on SIGINT / SIGTERM (exit 0; a second signal exits at once with 1). A failure to
 * start prints one line (what, and how to fix it) and exits with its code from EXIT_CODES.
 */
import { tokenCommand } from './auth/token-command'
import { createServer } from './server'
import { changedOptions, ConfigError, helpText, parseCommandLine, VERSION } from './config'
import { createLogger } from './log'
import { AUTH_MODES, buildFailure, DEMO_TOKENS_ON, DEV_MODE_WARNING, EXIT_CODES, exitCodesHelp, hostPort, listenFailure, optionFailure, redisFailure, type StartupFailure, unexpectedFailure } from './startup'

/** Ends the process before it served anything: one line on stderr, never a stack. */
function fail(failure: StartupFailure): never {
  process.stderr.write(`herald: ${failure.message}\n`)
  process.exit(failure.exitCode)
}

// `herald token …`: print a signed token and exit (src/auth/token-command.ts).
if (Bun.argv[2] === 'token') {
  const result = tokenCommand(Bun.argv.slice(3), process.env)
  if ('exitCode' in result) fail(result)
  process.stdout.write(result.stdout)
  process.exit(EXIT_CODES.ok)
}

let command: ReturnType<typeof parseCommandLine>
try {
  command = parseCommandLine(Bun.argv.slice(2), process.env)
} catch (error) {
  fail(error instanceof ConfigError ? optionFailure(error) : unexpectedFailure(error))
}

if (command.kind === 'help') {
  console.log(`${helpText()}\n\n${exitCodesHelp()}`)
  process.exit(EXIT_CODES.ok)
}
if (command.kind === 'version') {
  console.log(VERSION)
  process.exit(EXIT_CODES.ok)
}

const options = command.options
const log = createLogger(options.logLevel, options.logFormat)
let herald: ReturnType<typeof createServer>
try {
  herald = createServer(options, log)
} catch (error) {
  fail(buildFailure(error))
}
const { shutdown } = herald
/** Listens and logs the start line (after Redis answered, with --redis-start require). */
function serve(server: ReturnType<typeof createServer>): void {
  let port: number
  try {
    port = server.listen(options.port, options.host)
  } catch (error) {
    fail(listenFailure(error, options))
  }
  const mode = server.herald.authMode
  if (mode === 'dev') log.warn(DEV_MODE_WARNING)
  log.info('herald started', { address: `http://${hostPort(options.host, port)}`, version: VERSION, pid: process.pid, auth: AUTH_MODES[mode], ...changedOptions(options), ...(server.demoTokens && { demoTokens: DEMO_TOKENS_ON }) })
}

// With --redis: `require` takes no traffic before Redis answers (else one line, exit 5); `degraded`
// listens at once, /readyz answering 503 until Redis is reachable. (No top-level await: the
// compiled binary's entry is CommonJS.)
if (options.redis !== '' && options.redisStart === 'require') {
  const server = herald
  server.herald.ready().then(
    () => serve(server),
    (error: unknown) => fail(redisFailure(error, options.redis)),
  )
} else {
  if (options.redis !== '') {
    herald.herald.ready().catch((error: unknown) => log.warn('Redis is unreachable: running degraded (/readyz 503, publishes 503 store_unavailable) and retrying', { error: error instanceof Error ? error.message : String(error) }))
  }
  serve(herald)
}

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(EXIT_CODES.failed)
    stopping = true
    log.info('signal received', { signal })
    shutdown()
      .then(() => {
        log.info('stopped')
        process.exit(EXIT_CODES.ok)
      })
      .catch((error) => {
        log.error('shutdown failed', { error })
        process.exit(EXIT_CODES.failed)
      })
  })
}

/**
 * A small structured logger: one line per record, as text for people or JSON for machines.
 * Records below the level are dropped before any formatting work.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
export const LOG_FORMATS = ['text', 'json'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]

export type LogFields = Record<string, unknown>

/** `access_token=…` in a URL or query string (the token EventSource and WebSocket clients send). */
const ACCESS_TOKEN = /([?&;]access_token=)[^&#\s"']*/gi

/**
 * Text with every `?access_token=…` value replaced by `[redacted]`: a token in a logged URL would
 * let whoever reads the logs act as its holder until it expires. Every record is passed through it.
 */
export function redactTokens(text: string): string {
  return text.includes('access_token=') ? text.replace(ACCESS_TOKEN, '$1[redacted]') : text
}

/** A field's value with tokens redacted from its text (strings, URLs, errors; other values as they are). */
function redacted(value: unknown): unknown {
  if (typeof value === 'string') return redactTokens(value)
  if (value instanceof URL) return redactTokens(value.href)
  if (value instanceof Error) {
    const copy = new Error(redactTokens(value.message))
    copy.name = value.name
    copy.stack = value.stack === undefined ? undefined : redactTokens(value.stack)
    return copy
  }
  return value
}

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

function textValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.stack ?? value.message)
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return /[\s"=]/.test(text ?? '') ? JSON.stringify(text) : String(text)
}

/** `write` defaults to stderr, so stdout stays free for --help / --version output. Tokens in URLs are redacted (redactTokens). */
export function createLogger(level: LogLevel, format: LogFormat, write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Logger {
  const threshold = LOG_LEVELS.indexOf(level)
  const emit = (recordLevel: Exclude<LogLevel, 'silent'>, rawMessage: string, rawFields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(recordLevel) < threshold) return
    const message = redactTokens(rawMessage)
    const fields = Object.fromEntries(Object.entries(rawFields).map(([key, value]) => [key, redacted(value)]))
    const time = new Date().toISOString()
    if (format === 'json') {
      const plain = Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, value instanceof Error ? { message: value.message, stack: value.stack } : value]))
      write(JSON.stringify({ time, level: recordLevel, msg: message, ...plain }))
      return
    }
    const extras = Object.entries(fields).map(([key, value]) => ` ${key}=${textValue(value)}`)
    write(`${time} ${recordLevel.toUpperCase().padEnd(5)} ${message}${extras.join('')}`)
  }
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  }
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = createLogger('silent', 'text', () => {})

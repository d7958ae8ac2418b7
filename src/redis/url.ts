/**
 * `--redis` addresses and `--redis-prefix` key prefixes. `--redis` addresses: `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS). Kept apart
 * from the connection code so config.ts can check them without loading a client.
 */

/** Throws an Error (config.ts makes it a ConfigError) unless `text` is a Redis URL Herald can use; returns it trimmed. */
export function checkRedisUrl(text: string): string {
  const value = text.trim()
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new Error(`expected a Redis URL such as redis://127.0.0.1:6379/0 or rediss://user:password@host:6380, got ${JSON.stringify(redactRedisUrl(value))}`)
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(`a Redis URL starts with redis:// (or rediss:// for TLS), got ${JSON.stringify(url.protocol)}`)
  if (url.hostname === '') throw new Error('the Redis URL names no host')
  if (!/^\/?(\d{1,5})?$/.test(url.pathname)) throw new Error(`the path of a Redis URL is a database number such as /0, got ${JSON.stringify(url.pathname)}`)
  if (url.search !== '' || url.hash !== '') throw new Error('a Redis URL takes no ?query or #fragment')
  return value
}

/** The URL with its password replaced by `***`, for logs and messages. */
export function redactRedisUrl(text: string): string {
  try {
    const url = new URL(text)
    if (url.password !== '') url.password = '***'
    return url.toString()
  } catch {
    return text.replace(/\/\/([^@/]*):[^@/]*@/, '//$1:***@')
  }
}

/** The URL to connect to: `password` (from HERALD_REDIS_PASSWORD) is used unless the URL carries one. */
export function redisTarget(text: string, password: string): string {
  if (password === '') return text
  const url = new URL(text)
  if (url.password !== '') return text
  url.password = encodeURIComponent(password)
  return url.toString()
}

/**
 * Throws unless `prefix` is 1 to 64 letters, digits and `_ . -`; returns it. No `:`, which ends
 * the prefix in every key (`PREFIX:log`, `PREFIX:t:TOPIC`), so two clusters' keys never meet; no
 * glob characters, so `SCAN MATCH PREFIX:*` finds exactly one cluster's keys.
 */
export function checkRedisPrefix(prefix: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) throw new Error(`"${prefix}" is not a key prefix: 1-64 of A-Z a-z 0-9 _ . - (no ":", which ends the prefix in every key)`)
  return prefix
}

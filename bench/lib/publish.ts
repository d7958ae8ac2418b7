/**
 * The publisher: POST /publish with JSON batches, `window` requests in flight, as fast as the
 * server answers. Batches keep the publish path (HTTP parsing, routing, validation) a small share
 * of the server's work, so what is measured is fan-out. Each message's data is `ts=<µs>;` (this
 * process's performance.now() when the batch was built) padded to `size` characters.
 */
export interface PublishOptions {
  port: number
  messages: number
  batch: number
  window: number
  size: number
  /** Sent as `Authorization: Bearer` with every POST (the auth-on phases). */
  token?: string | undefined
}

function batchBody(count: number, size: number): string {
  const stamp = `ts=${Math.round(performance.now() * 1000)};`
  const data = stamp.padEnd(size, 'x')
  const item = JSON.stringify({ topic: 'bench', data })
  return `[${Array.from({ length: count }, () => item).join(',')}]`
}

/** Publishes everything; resolves when the server has answered every batch. */
export async function publishAll(options: PublishOptions): Promise<void> {
  const url = `http://127.0.0.1:${options.port}/publish`
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  let sent = 0
  const worker = async () => {
    while (sent < options.messages) {
      const count = Math.min(options.batch, options.messages - sent)
      sent += count
      const response = await fetch(url, { method: 'POST', headers, body: batchBody(count, options.size) })
      const text = await response.text()
      if (!response.ok) throw new Error(`POST /publish answered ${response.status}: ${text.slice(0, 200)}`)
    }
  }
  await Promise.all(Array.from({ length: options.window }, worker))
}

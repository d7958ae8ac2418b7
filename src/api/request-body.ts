/**
 * Reading request bodies without trusting the client: the declared Content-Length is checked first,
 * then the bytes as they stream in, so at most `limit` bytes are ever buffered, whatever is sent.
 */

/** The body's bytes, or undefined when it is (or claims to be) longer than `limit`. */
export async function readLimitedBytes(request: Request, limit: number): Promise<Uint8Array | undefined> {
  const declared = request.headers.get('content-length')
  if (Number(declared ?? 0) > limit) return undefined
  if (!request.body) return new Uint8Array(0)
  // With a Content-Length within the limit, HTTP framing bounds the body to it: Bun's native read
  // is safe, and much cheaper than pulling chunks through a stream reader (measured ~7% of server
  // time under publish load). Only chunked bodies, whose size is unknown, are streamed and counted.
  if (declared !== null && request.headers.get('transfer-encoding') === null) return new Uint8Array(await request.arrayBuffer())
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      reader.cancel().catch(() => {})
      return undefined
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}

/** The media type of the body, lower-cased, without parameters (`text/plain; charset=x` → `text/plain`); '' when absent. */
export function mediaType(request: Request): string {
  return (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

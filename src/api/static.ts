/**
 * Serves files that are embedded in the executable (`import path from '…' with { type: 'file' }`
 * gives a path that works both from source and from `bun build --compile`). Each file is read once,
 * on first request, and kept with its ETag and a gzip copy; revalidation answers 304.
 */
export interface StaticAsset {
  /** The embedded path from a `with { type: 'file' }` import. */
  path: string
  /** Content-Type header. */
  type: string
  /** Cache-Control header; vendored, versioned files may be cached for long. */
  cacheControl?: string
}

interface Loaded {
  body: Uint8Array<ArrayBuffer>
  gzipped: Uint8Array<ArrayBuffer> | undefined
  etag: string
  lastModified: string
}

const COMPRESSIBLE = /^(text\/|application\/(javascript|json)|image\/svg)/
/** Time the process started: embedded files have no real mtime, and they cannot change while it runs. */
const STARTED = new Date().toUTCString()

export function staticHandler(asset: StaticAsset): (request: Request) => Promise<Response> {
  let loaded: Promise<Loaded> | undefined
  const load = async (): Promise<Loaded> => {
    const body = new Uint8Array(await Bun.file(asset.path).arrayBuffer())
    const etag = `"${Bun.hash(body).toString(36)}"`
    const gzipped = COMPRESSIBLE.test(asset.type) && body.byteLength > 1024 ? Bun.gzipSync(body) : undefined
    return { body, gzipped, etag, lastModified: STARTED }
  }
  return async (request) => {
    const file = await (loaded ??= load())
    const headers: Record<string, string> = {
      'content-type': asset.type,
      etag: file.etag,
      'last-modified': file.lastModified,
      'cache-control': asset.cacheControl ?? 'no-cache',
      vary: 'accept-encoding',
    }
    if (request.headers.get('if-none-match') === file.etag) return new Response(null, { status: 304, headers })
    if (file.gzipped && /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '')) {
      return new Response(file.gzipped, { headers: { ...headers, 'content-encoding': 'gzip' } })
    }
    return new Response(file.body, { headers })
  }
}

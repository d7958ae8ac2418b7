/**
 * A TCP proxy between a client and a server, for cutting connections the way a network does:
 * `cut()` destroys every connection through it at once (the server sees the client vanish, the
 * client sees the server vanish), `block()` refuses new connections until `unblock()`.
 */
import type { Socket } from 'bun'

interface Pair {
  client: Socket<Pair>
  server: Socket<undefined> | undefined
  /** Bytes from the client before the server side connected. */
  early: Uint8Array[]
  /** Set once either side closed: a server side that connects later is closed at once. */
  closed: boolean
}

export interface Proxy {
  /** http://127.0.0.1:<port> of the proxy. */
  base: string
  /** Connections accepted since start (refused ones included). */
  accepted: number
  cut(): void
  block(): void
  unblock(): void
  stop(): void
}

export function tcpProxy(target: string): Proxy {
  const { hostname, port } = new URL(target)
  const pairs = new Set<Pair>()
  let blocked = false
  const listener = Bun.listen<Pair>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(client) {
        proxy.accepted++
        if (blocked) return void client.end()
        const pair: Pair = { client, server: undefined, early: [], closed: false }
        client.data = pair
        pairs.add(pair)
        Bun.connect({
          hostname,
          port: Number(port),
          socket: {
            data: (_server, chunk) => void client.write(chunk),
            close: () => {
              pairs.delete(pair)
              client.end()
            },
            error: () => void client.end(),
          },
        }).then(
          (server) => {
            pair.server = server
            if (pair.closed) return void server.terminate()
            for (const chunk of pair.early) server.write(chunk)
            pair.early = []
          },
          () => client.end(),
        )
      },
      data(client, chunk) {
        const pair = client.data
        if (pair.server) pair.server.write(chunk)
        else pair.early.push(new Uint8Array(chunk))
      },
      close(client) {
        const pair = client.data
        if (!pair) return
        pair.closed = true
        pairs.delete(pair)
        pair.server?.end()
      },
    },
  })
  const proxy: Proxy = {
    base: `http://127.0.0.1:${listener.port}`,
    accepted: 0,
    cut() {
      for (const pair of pairs) {
        pair.closed = true
        pair.client.terminate()
        pair.server?.terminate()
      }
      pairs.clear()
    },
    block: () => void (blocked = true),
    unblock: () => void (blocked = false),
    stop() {
      proxy.cut()
      listener.stop(true)
    },
  }
  return proxy
}

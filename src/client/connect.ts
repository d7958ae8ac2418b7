import { HeraldError } from './errors'
import { Feed } from './feed'
import { publish } from './publish'
import { settings as resolve } from './settings'
import { sseSubscription } from './sse'
import type { ConnectOptions, HeraldItem, Published, PublishOptions, SubscribeOptions } from './types'
import { WsPool } from './ws'

/** A connection to one Herald server (see `connect`). */
export interface Herald {
  /**
   * Subscribes to topics and patterns (`chat/room-1`, `news/**`). Iterate the result with
   * `for await`: events in id order, each once, across reconnects (with backoff), and a `reset`
   * when the server cannot replay what was missed. Nothing connects until the loop starts. The loop
   * ends when `signal` aborts, on `break`, or on `close()`; it throws a `HeraldError` the server
   * will always answer the same way (`invalid_selector`, `too_many_topics`, …).
   */
  subscribe(selectors: string | readonly string[], options?: SubscribeOptions): AsyncGenerator<HeraldItem, void, undefined>
  /**
   * Publishes one event over HTTP (with the connection's token, if any); resolves with its id, or
   * throws a `HeraldError`. Never retried, except a `401 token_expired` (refused before anything
   * was published), sent once more with a fresh token.
   */
  publish(topic: string, data: unknown, options?: PublishOptions): Promise<Published>
  /** Ends every subscription (their loops finish) and closes the sockets; `publish` still works. */
  close(): void
}

/**
 * A client for the Herald server at `options.url` (default: the page's origin). Cheap: it opens
 * nothing until a subscription's loop starts. With `options.token`, every subscription and publish
 * is authenticated (see ConnectOptions.token).
 */
export function connect(options: ConnectOptions = {}): Herald {
  const config = resolve(options)
  const pool = new WsPool(config)
  const feeds = new Set<Feed>()
  let closed = false

  async function* subscribe(selectors: string | readonly string[], subscribeOptions: SubscribeOptions = {}): AsyncGenerator<HeraldItem, void, undefined> {
    if (closed) throw new HeraldError('closed', 'this connection was closed')
    const { signal } = subscribeOptions
    if (signal?.aborted) return
    const feed = new Feed(typeof selectors === 'string' ? [selectors] : [...selectors], subscribeOptions, config.bufferSize)
    const end = () => feed.end()
    signal?.addEventListener('abort', end)
    feeds.add(feed)
    try {
      if ((subscribeOptions.transport ?? config.transport) === 'sse') sseSubscription(feed, config).catch((error) => feed.fail(error))
      else pool.add(feed)
      for (let item = await feed.take(); item; item = await feed.take()) yield item
    } finally {
      signal?.removeEventListener('abort', end)
      feeds.delete(feed)
      feed.end()
    }
  }

  return {
    subscribe,
    publish: (topic, data, publishOptions) => publish(config, topic, data, publishOptions),
    close() {
      closed = true
      for (const feed of feeds) feed.end()
    },
  }
}

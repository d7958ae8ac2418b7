import { afterEach, describe, expect, test } from 'bun:test'
import { ClusterKeys } from '../../src/cluster/keys'
import { ClusterLink } from '../../src/cluster/link'
import { RedisFeedStore } from '../../src/demos/feed/redis-store'
import { cleanUp, REDIS_URL, redisAvailable, uniquePrefix } from './redis'

describe.skipIf(!redisAvailable)('the feed on Redis', () => {
  const links: ClusterLink[] = []
  const prefixes: string[] = []
  afterEach(async () => {
    for (const link of links.splice(0)) link.close()
    for (const prefix of prefixes.splice(0)) await cleanUp(prefix)
  })

  function stores(count: number, keep?: number): RedisFeedStore[] {
    const prefix = uniquePrefix('feed')
    prefixes.push(prefix)
    return Array.from({ length: count }, () => {
      const link = new ClusterLink(REDIS_URL)
      links.push(link)
      return new RedisFeedStore(link, new ClusterKeys(prefix), keep)
    })
  }

  test('a post stored through one node is listed by every node, newest first, text exactly as written', async () => {
    const [a, b] = stores(2) as [RedisFeedStore, RedisFeedStore]
    const text = 'line one\nline two <b>not bold</b> "quoted" \\ émoji 🦊 / slash'
    const first = await a.add('ada', text)
    const second = await b.add('bob', 'second')
    expect(second.id).toBeGreaterThan(first.id)
    for (const store of [a, b]) {
      const list = await store.latest(50)
      expect(list.map(({ author, text: t }) => [author, t])).toEqual([['bob', 'second'], ['ada', text]])
      expect(list[1]).toEqual(first)
    }
    expect(await a.newestId()).toBe(second.id)
    expect(Date.parse(first.at)).toBeGreaterThan(0)
  })

  test('it keeps its newest posts: the limit passes, one more drops the oldest', async () => {
    const [store] = stores(1, 3) as [RedisFeedStore]
    for (const text of ['1', '2', '3']) await store.add('ada', text)
    expect((await store.latest(10)).map((post) => post.text)).toEqual(['3', '2', '1'])
    await store.add('ada', '4')
    expect((await store.latest(10)).map((post) => post.text)).toEqual(['4', '3', '2'])
    expect((await store.latest(2)).map((post) => post.text)).toEqual(['4', '3'])
  })

  test('posts from many nodes at once all land, each with its own id', async () => {
    const list = stores(3)
    await Promise.all(list.flatMap((store, n) => Array.from({ length: 20 }, (_, i) => store.add(`node${n}`, `post ${i}`))))
    const posts = await (list[0] as RedisFeedStore).latest(100)
    expect(posts.length).toBe(60)
    expect(new Set(posts.map((post) => post.id)).size).toBe(60)
    expect(posts.map((post) => post.id)).toEqual([...posts.map((post) => post.id)].sort((x, y) => y - x))
  })
})

test('with Redis unreachable, the feed store rejects with store_unavailable at once', async () => {
  const link = new ClusterLink('redis://127.0.0.1:1', { connectTimeoutMs: 500 })
  try {
    const store = new RedisFeedStore(link, new ClusterKeys('nowhere'))
    await expect(store.add('ada', 'hello')).rejects.toMatchObject({ code: 'store_unavailable' })
    await expect(store.latest(10)).rejects.toMatchObject({ code: 'store_unavailable' })
  } finally {
    link.close()
  }
})

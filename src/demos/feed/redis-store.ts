import type { ClusterKeys } from '../../cluster/keys'
import type { ClusterLink } from '../../cluster/link'
import type { Post } from './store'

/**
 * Stores a post atomically: the next id (INCR), the time (Redis's clock, so every node agrees on
 * the order), pushed on the newest end of the list, which is trimmed to ARGV[3] posts.
 * KEYS: seq, posts. ARGV: author, text, keep. Returns {id, ms}.
 */
const ADD = `
local id = redis.call('INCR', KEYS[1])
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('LPUSH', KEYS[2], cjson.encode({ id = id, author = ARGV[1], text = ARGV[2], ms = ms }))
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return { id, ms }
`

/** Posts a Redis feed keeps (the newest; older ones are trimmed). */
export const REDIS_FEED_KEEP = 1000

function parsePost(json: string): Post | undefined {
  try {
    const value = JSON.parse(json) as { id?: unknown; author?: unknown; text?: unknown; ms?: unknown }
    if (typeof value.id !== 'number' || typeof value.author !== 'string' || typeof value.text !== 'string' || typeof value.ms !== 'number') return undefined
    return { id: value.id, author: value.author, text: value.text, at: new Date(value.ms).toISOString() }
  } catch {
    return undefined
  }
}

/**
 * The feed's posts in Redis, shared by every node of a cluster (`<prefix>:feed:posts`, a list,
 * newest first, at most REDIS_FEED_KEEP; ids from `<prefix>:feed:seq`). Every method rejects with
 * `store_unavailable` while Redis is unreachable (the feed answers 503 then).
 */
export class RedisFeedStore {
  /** Other nodes write the same posts: the feed re-sends the list when one of theirs landed between a post and its update. */
  readonly shared = true
  private readonly seq: string
  private readonly posts: string

  constructor(
    private readonly link: ClusterLink,
    keys: ClusterKeys,
    private readonly keep: number = REDIS_FEED_KEEP,
  ) {
    this.seq = keys.key('feed', 'seq')
    this.posts = keys.key('feed', 'posts')
  }

  /** Stores a post and returns it with its id and time. */
  async add(author: string, text: string): Promise<Post> {
    const reply = (await this.link.eval(ADD, [this.seq, this.posts], [author, text, this.keep])) as [number, number]
    return { id: Number(reply[0]), author, text, at: new Date(Number(reply[1])).toISOString() }
  }

  /** The newest `limit` posts, newest first. */
  async latest(limit: number): Promise<Post[]> {
    const list = (await this.link.send('LRANGE', [this.posts, 0, limit - 1])) as string[]
    return list.flatMap((json) => parsePost(json) ?? [])
  }

  /** The id of the newest post (0 when there is none). */
  async newestId(): Promise<number> {
    return Number((await this.link.send('GET', [this.seq])) ?? 0)
  }

  /** The link belongs to the cluster membership, which closes it. */
  close(): void {}
}

import { Database } from 'bun:sqlite'

/** One feed post as stored. */
export interface Post {
  /** Increasing; the newest post has the largest. */
  readonly id: number
  readonly author: string
  /** The text as written (trimmed, line breaks as LF); escaped only when rendered. */
  readonly text: string
  /** When it was posted, RFC 3339 in UTC. */
  readonly at: string
}

/**
 * The feed's posts in bun:sqlite. `path` is a file (created if missing; posts survive restarts)
 * or `:memory:` (gone when the process ends). One writer process per file.
 */
export class FeedStore {
  private constructor(private readonly db: Database) {}

  static open(path: string): FeedStore {
    const db = new Database(path, { create: true, strict: true })
    try {
      // WAL: readers never wait for the writer; busy_timeout rides out a brief lock from another process.
      if (path !== ':memory:') db.exec('PRAGMA journal_mode = WAL')
      db.exec('PRAGMA busy_timeout = 5000')
      db.exec('CREATE TABLE IF NOT EXISTS feed_posts (id INTEGER PRIMARY KEY AUTOINCREMENT, author TEXT NOT NULL, text TEXT NOT NULL, at TEXT NOT NULL)')
    } catch (error) {
      db.close()
      throw error
    }
    return new FeedStore(db)
  }

  /** Stores a post and returns it with its id and time. */
  add(author: string, text: string): Post {
    const at = new Date().toISOString()
    const row = this.db.query<{ id: number }, [string, string, string]>('INSERT INTO feed_posts (author, text, at) VALUES (?, ?, ?) RETURNING id').get(author, text, at)
    return { id: row?.id ?? 0, author, text, at }
  }

  /** The newest `limit` posts, newest first. */
  latest(limit: number): Post[] {
    return this.db.query<Post, [number]>('SELECT id, author, text, at FROM feed_posts ORDER BY id DESC LIMIT ?').all(limit)
  }

  close(): void {
    this.db.close()
  }
}

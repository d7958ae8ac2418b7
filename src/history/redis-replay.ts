import type { HubEvent } from '../hub/event'
import { formatEventId, type EventId } from '../hub/id'
import { entryId, eventOf, type StreamEntry } from '../redis/entries'
import type { RedisCommands } from '../redis/link'
import { FETCH, SNAPSHOT } from '../redis/scripts'
import { IdHeap } from './id-heap'
import type { ReplayResult } from './store'

/** What one resume needs to know of the store. */
export interface ReplayContext {
  readonly redis: RedisCommands
  readonly prefix: string
  /** The epoch the node serves; an answer from another epoch is incomplete (the node resyncs). */
  readonly epoch: string | undefined
  /** Events (or topics) per read: a read returns about this many events. */
  readonly page: number
  /** Waited before each read after the first (tests change the store here). */
  readonly pause: (() => Promise<void>) | undefined
  /** Told what the snapshot found: the floor and the newest id written. */
  seen(floor: EventId, bound: EventId): void
}

/** Topics one SNAPSHOT `all` / `more` call looks at (a pattern's resume). */
const TOPICS_BATCH = 1000

/** One topic being merged: events fetched and not yet taken, and the id of the next one still in Redis. */
interface Source {
  readonly topic: string
  buffer: HubEvent[]
  index: number
  /** The id of the topic's next event after the buffer (≤ bound), which the next fetch must start with; undefined once none is left. */
  next: string | undefined
  key: EventId
}

const incomplete = (events: HubEvent[]): ReplayResult => ({ events, complete: false })

/**
 * A resume from Redis (see RedisHistory.since). One SNAPSHOT call fixes `bound` (the newest id
 * written) and checks, atomically, the floor and each wanted topic's mark (a gap before the resume
 * began), then finds each topic's first event after `after`; small resumes get their events in
 * that same call. Larger ones merge the topics by id (a heap), fetching a slice of each topic at a
 * time (FETCH). Events up to `bound` can only be removed, never added (new ids are newer), and
 * removal takes a topic's oldest first: so a fetch that does not start with the id the previous one
 * said came next proves that an event still to be returned was removed meanwhile, and the answer
 * is incomplete. A pattern's topics are listed in batches of TOPICS_BATCH; the first is atomic
 * with `bound`, a later one counts a mark past `after` as a gap even if it moved after `bound`
 * was fixed (a reset where a longer wait could have proved none was needed; never a silent gap).
 */
export async function replayFromRedis(context: ReplayContext, after: EventId, accepts: (topic: string) => boolean, limit: number, named: readonly string[] | undefined): Promise<ReplayResult> {
  const { redis, prefix, page } = context
  const afterText = formatEventId(after)
  const topics = named ? [...new Set(named)] : undefined
  const size = topics ? Math.min(page, limit + 1) : TOPICS_BATCH
  const snapshot = (await redis.run(SNAPSHOT, [prefix, afterText, topics ? 'named' : 'all', String(size), '', '', '', ...(topics ?? [])])) as unknown[]
  if (snapshot[0] !== 'ok' || snapshot[1] !== context.epoch) return incomplete([])
  const boundText = snapshot[2] as string
  context.seen(entryId(snapshot[3]), entryId(boundText))
  const waiting: Source[] = []
  const wait = (topic: string, first: unknown) => {
    if (typeof first === 'string' && first !== '') waiting.push({ topic, buffer: [], index: 0, next: first, key: entryId(first) })
  }
  if (topics) {
    const found = snapshot.slice(5)
    if (snapshot[4] === 1) return inline(topics, found as StreamEntry[][], limit)
    topics.forEach((topic, i) => wait(topic, found[i]))
    return merge(context, boundText, waiting, limit)
  }
  const seen = new Set<string>()
  for (let reply = snapshot; ; ) {
    const found = reply.slice(5) as string[]
    for (let i = 0; i + 2 < found.length; i += 3) {
      const topic = found[i] as string
      // A topic published again while the batches are read comes round twice: once is enough.
      if (seen.has(topic) || !accepts(topic)) continue
      seen.add(topic)
      if (found[i + 2] === '1') return incomplete([])
      wait(topic, found[i + 1])
    }
    const cursor = reply[4]
    if (typeof cursor !== 'string' || cursor === '') break
    await context.pause?.()
    reply = (await redis.run(SNAPSHOT, [prefix, afterText, 'more', String(TOPICS_BATCH), context.epoch ?? '', boundText, cursor])) as unknown[]
    if (reply[0] !== 'ok') return incomplete([])
  }
  return merge(context, boundText, waiting, limit)
}

/** The answer when SNAPSHOT returned every event (one list per topic): merged by id. */
function inline(names: readonly string[], lists: readonly StreamEntry[][], limit: number): ReplayResult {
  const events: HubEvent[] = []
  lists.forEach((entries, i) => {
    for (const [id, fields] of entries) events.push(eventOf(id, names[i] as string, fields))
  })
  events.sort((a, b) => a.position.ms - b.position.ms || a.position.seq - b.position.seq)
  return events.length > limit ? incomplete(events.slice(0, limit)) : { events, complete: true }
}

/** Takes events oldest first from the sources, fetching more of a topic whenever its buffer runs out. */
async function merge(context: ReplayContext, bound: string, waiting: Source[], limit: number): Promise<ReplayResult> {
  const events: HubEvent[] = []
  const heap = new IdHeap<Source>()
  let pending = waiting
  for (;;) {
    if (pending.length > 0) {
      const refilled = await fetchMore(context, bound, pending)
      if (!refilled) return incomplete(events)
      for (const source of refilled) heap.push(source)
      pending = []
    }
    const source = heap.peek()
    if (!source) return { events, complete: true }
    if (events.length === limit) return incomplete(events)
    events.push(source.buffer[source.index++] as HubEvent)
    if (source.index < source.buffer.length) {
      source.key = (source.buffer[source.index] as HubEvent).position
      heap.topChanged()
    } else {
      heap.pop()
      source.buffer = []
      source.index = 0
      if (source.next !== undefined) pending.push(source)
    }
  }
}

/**
 * Fetches the next slice of each source (FETCH calls of about `page` events), checking that each
 * starts with the id it must; returns the sources, their buffers filled, or undefined when an event
 * was removed before it could be returned (or the epoch changed).
 */
async function fetchMore(context: ReplayContext, bound: string, sources: Source[]): Promise<Source[] | undefined> {
  const { redis, prefix, page } = context
  const perSource = Math.max(1, Math.ceil(page / sources.length))
  const perCall = Math.max(1, Math.floor(page / perSource))
  for (let start = 0; start < sources.length; start += perCall) {
    const batch = sources.slice(start, start + perCall)
    await context.pause?.()
    const args = [prefix, context.epoch ?? '', bound]
    for (const source of batch) args.push(source.topic, source.next as string, String(perSource + 1))
    const reply = (await redis.run(FETCH, args)) as unknown[]
    if (reply[0] !== 'ok') return undefined
    for (const [i, source] of batch.entries()) {
      const entries = reply[i + 1] as StreamEntry[]
      // The event this topic had next when it was last read is gone: retention removed it unsent.
      if (entries[0]?.[0] !== source.next) return undefined
      source.buffer = entries.slice(0, perSource).map(([id, fields]) => eventOf(id, source.topic, fields))
      source.next = entries[perSource]?.[0]
      source.key = (source.buffer[0] as HubEvent).position
    }
  }
  return sources
}

import { HubError } from './errors'

/**
 * Event ids have the shape Redis stream ids have: `<milliseconds>-<sequence>`, e.g. `1764135000000-0`.
 * They are unique per hub, strictly increase in publish order across all topics (so one id is a
 * resume position for a multi-topic subscription), and compare numerically, part by part.
 *
 * The id space, shared by the parser and the generator: each part is a whole number from 0 to
 * MAX_ID_PART, written in decimal without leading zeros (so one id has exactly one spelling).
 * The generator only ever produces ids in this space, so every id Herald sends parses back.
 */
export interface EventId {
  readonly ms: number
  readonly seq: number
}

/** The largest value either part of an id may take: the largest integer a JS number holds exactly. */
export const MAX_ID_PART = Number.MAX_SAFE_INTEGER

/**
 * How far, by default, the millisecond part of a publisher-chosen id may be from the server's clock
 * (either way): 60 s, a generous bound for machines that keep time with NTP (`--max-id-skew`).
 */
export const DEFAULT_MAX_ID_SKEW_MS = 60_000

// Up to 16 digits: MAX_ID_PART has 16; larger 16-digit values are refused by isIdPart.
const ID_SHAPE = /^(0|[1-9]\d{0,15})-(0|[1-9]\d{0,15})$/

/** True when `value` may be one part of an id: a whole number from 0 to MAX_ID_PART. */
export function isIdPart(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** True when both parts of `id` are in the id space (stores use it to check what they read back). */
export function isEventId(id: { readonly ms: unknown; readonly seq: unknown }): id is EventId {
  return isIdPart(id.ms) && isIdPart(id.seq)
}

/**
 * Parses `<ms>-<seq>` (each part 0 to MAX_ID_PART, no sign, no leading zeros, nothing around it);
 * anything else throws a HubError with the given code.
 */
export function parseEventId(text: string, code: 'invalid_id' | 'invalid_last_event_id' = 'invalid_id'): EventId {
  const match = ID_SHAPE.exec(text)
  const id = match ? { ms: Number(match[1]), seq: Number(match[2]) } : undefined
  if (!id || !isEventId(id)) {
    throw new HubError(
      code,
      `event id must be <milliseconds>-<sequence>, two whole numbers from 0 to ${MAX_ID_PART} without leading zeros, e.g. 1764135000000-0; got ${JSON.stringify(text.slice(0, 64))}`,
    )
  }
  return id
}

/**
 * The id's text. Throws a RangeError for a position outside the id space: the one place every id
 * Herald sends is written, so a bad position can never reach a client as an id it could not parse.
 */
export function formatEventId(id: EventId): string {
  const text = `${id.ms}-${id.seq}`
  if (!isEventId(id)) throw new RangeError(`not an event id: ${text}`)
  return text
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareIds(a: EventId, b: EventId): number {
  return a.ms - b.ms || a.seq - b.seq
}

/** The id before every real id: resuming from it replays the whole retained history. */
export const ZERO_ID: EventId = { ms: 0, seq: 0 }

/**
 * The smallest id after `id` (the sequence grows; at its end the next millisecond starts), or
 * undefined when `id` is the last id of the space.
 */
export function successor(id: EventId): EventId | undefined {
  if (id.seq < MAX_ID_PART) return { ms: id.ms, seq: id.seq + 1 }
  if (id.ms < MAX_ID_PART) return { ms: id.ms + 1, seq: 0 }
  return undefined
}

/**
 * Hands out increasing ids. Monotonic even if the wall clock steps back: the millisecond part then
 * stays put and the sequence grows, as Redis does; a sequence at its end moves to the next
 * millisecond. Every id it hands out or accepts is in the id space.
 */
export class IdGenerator {
  private last: EventId = ZERO_ID

  /**
   * @param now the clock, milliseconds since the epoch (tests pin it)
   * @param maxSkewMs how far from `now()` (either way) a publisher-chosen id's millisecond part may be
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxSkewMs: number = DEFAULT_MAX_ID_SKEW_MS,
  ) {}

  /** The most recent id handed out or accepted (ZERO_ID before the first). */
  get current(): EventId {
    return this.last
  }

  /**
   * The next id: the clock's millisecond with sequence 0 if the clock moved past the last id, else
   * the last id's successor. Throws a RangeError if the id space is exhausted, which cannot happen
   * from publishes (their ids stay within maxSkewMs of the clock) and start-up checks the store.
   */
  next(): EventId {
    const ms = Math.floor(this.now())
    if (isIdPart(ms) && ms > this.last.ms) {
      this.last = { ms, seq: 0 }
      return this.last
    }
    const after = successor(this.last)
    if (!after) throw new RangeError(`the event id space is exhausted: ${formatEventId(this.last)} is the largest id`)
    this.last = after
    return after
  }

  /**
   * Accepts a publisher-chosen id: it must be newer than every id so far (Redis XADD's rule;
   * `id_not_increasing`), and its millisecond part at most maxSkewMs from the clock (`invalid_id`),
   * so no publisher can push the hub's ids far into the future (or under the history's floor).
   */
  accept(id: EventId): EventId {
    if (!isEventId(id)) throw new HubError('invalid_id', `event id parts must be whole numbers from 0 to ${MAX_ID_PART}`)
    if (compareIds(id, this.last) <= 0) {
      throw new HubError('id_not_increasing', `event id ${formatEventId(id)} must be greater than the last id ${formatEventId(this.last)}`)
    }
    const now = this.now()
    if (Math.abs(id.ms - now) > this.maxSkewMs) {
      const how = id.ms > now ? 'ahead of' : 'behind'
      throw new HubError(
        'invalid_id',
        `event id ${formatEventId(id)} is ${Math.abs(id.ms - now)} ms ${how} the server clock; the milliseconds of a publisher's id may be at most ${this.maxSkewMs} ms from it (--max-id-skew)`,
      )
    }
    this.last = id
    return id
  }

  /** Undoes the ids handed out since `to` was current (a batch that failed validation). */
  rollback(to: EventId): void {
    this.last = to
  }

  /**
   * Moves the generator past ids a durable store already holds (after a restart). A position
   * outside the id space is refused with `store_unavailable` rather than continued from.
   */
  advanceTo(id: EventId): void {
    const text = `${id.ms}-${id.seq}`
    if (!isEventId(id)) throw new HubError('store_unavailable', `the event store's newest id ${text} is not a valid event id; Herald will not continue after it`)
    if (compareIds(id, this.last) > 0) this.last = id
  }
}

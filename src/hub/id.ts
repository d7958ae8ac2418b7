import { HubError } from './errors'

/**
 * Event ids have the shape Redis stream ids have: `<milliseconds>-<sequence>`, e.g. `1764135000000-0`.
 * They are unique per hub, strictly increase in publish order across all topics (so one id is a
 * resume position for a multi-topic subscription), and compare numerically, part by part.
 */
export interface EventId {
  readonly ms: number
  readonly seq: number
}

const ID_SHAPE = /^(\d{1,15})-(\d{1,15})$/

/** Parses `<ms>-<seq>`; throws `invalid_last_event_id`-style errors with the given code. */
export function parseEventId(text: string, code: 'invalid_id' | 'invalid_last_event_id' = 'invalid_id'): EventId {
  const match = ID_SHAPE.exec(text)
  if (!match) {
    throw new HubError(code, `event id must look like <milliseconds>-<sequence>, e.g. 1764135000000-0; got ${JSON.stringify(text.slice(0, 64))}`)
  }
  const ms = Number(match[1])
  const seq = Number(match[2])
  if (!Number.isSafeInteger(ms) || !Number.isSafeInteger(seq)) {
    throw new HubError(code, 'event id parts must be safe integers')
  }
  return { ms, seq }
}

export function formatEventId(id: EventId): string {
  return `${id.ms}-${id.seq}`
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareIds(a: EventId, b: EventId): number {
  return a.ms - b.ms || a.seq - b.seq
}

/** The id before every real id: resuming from it replays the whole retained history. */
export const ZERO_ID: EventId = { ms: 0, seq: 0 }

/**
 * Hands out increasing ids. Monotonic even if the wall clock steps back: the millisecond part then
 * stays put and the sequence grows, as Redis does.
 */
export class IdGenerator {
  private last: EventId = ZERO_ID

  constructor(private readonly now: () => number = Date.now) {}

  /** The most recent id handed out or accepted (ZERO_ID before the first). */
  get current(): EventId {
    return this.last
  }

  next(): EventId {
    const ms = this.now()
    this.last = ms > this.last.ms ? { ms, seq: 0 } : { ms: this.last.ms, seq: this.last.seq + 1 }
    return this.last
  }

  /** Accepts a publisher-chosen id; it must be newer than every id so far (Redis XADD's rule). */
  accept(id: EventId): EventId {
    if (compareIds(id, this.last) <= 0) {
      throw new HubError('id_not_increasing', `event id ${formatEventId(id)} must be greater than the last id ${formatEventId(this.last)}`)
    }
    this.last = id
    return id
  }

  /** Undoes the ids handed out since `to` was current (a batch that failed validation). */
  rollback(to: EventId): void {
    this.last = to
  }

  /** Moves the generator past ids a durable store already holds (after a restart). */
  advanceTo(id: EventId): void {
    if (compareIds(id, this.last) > 0) this.last = id
  }
}

import type { Broker } from '../hub/broker'
import { HubError } from '../hub/errors'
import type { HubEvent, ValidatedInput } from '../hub/event'
import type { HistoryStore } from '../hub/history'
import { type EventId, formatEventId, IdGenerator } from '../hub/id'

export interface MemoryBrokerOptions {
  /** Clock for event ids (tests pin it); default Date.now. */
  now?: () => number
  /** How far from `now` a publisher-chosen id's milliseconds may be, either way (default 60 s; see id.ts). */
  maxIdSkewMs?: number
}

const noop = () => {}

/** A store failure as the publisher sees it: a HubError passes as it is, anything else is `store_unavailable`. */
function storeFailure(error: unknown): HubError {
  if (error instanceof HubError) return error
  const reason = error instanceof Error ? error.message : String(error)
  return new HubError('store_unavailable', `the event store could not keep the batch (${reason}); nothing was published, try again`)
}

function isPromise(value: unknown): value is PromiseLike<void> {
  return typeof (value as PromiseLike<void> | undefined)?.then === 'function'
}

/**
 * One process: ids from a local generator (continuing after what the store holds), durability
 * from the history store, and the announcement is a direct call to the local delivery.
 *
 * A synchronous store (memory, sqlite) makes a publish one synchronous step: ids, append, deliver,
 * before `publish` returns its (resolved) promise, with no queue and no extra turn. When a store
 * answers with a promise, publishes are serialized behind it (each batch gets its ids only when
 * the one before has been kept or has failed), so batches are kept and delivered in id order and a
 * failed batch's ids are given back. While nothing async is in flight the fast path returns.
 */
export class MemoryBroker implements Broker {
  private readonly ids: IdGenerator
  private deliver: (events: readonly HubEvent[]) => void = noop
  private announced: EventId
  /** Settles when the last publish accepted behind an async append has; undefined when none is in flight. */
  private tail: Promise<void> | undefined
  private closed = false

  /**
   * Throws `store_unavailable` when the store's head is not a valid event id (it will not continue
   * after an id it could not send).
   */
  constructor(
    private readonly history: HistoryStore,
    options: MemoryBrokerOptions = {},
  ) {
    this.ids = new IdGenerator(options.now, options.maxIdSkewMs)
    this.ids.advanceTo(history.head())
    this.announced = this.ids.current
  }

  publish(batch: readonly ValidatedInput[]): Promise<HubEvent[]> {
    if (this.closed) return Promise.reject(new HubError('shutting_down', 'Herald is shutting down; publish again after it restarts'))
    if (this.tail !== undefined) return this.track(this.tail.then(() => this.keep(batch)))
    let kept: HubEvent[] | Promise<HubEvent[]>
    try {
      kept = this.keep(batch)
    } catch (error) {
      return Promise.reject(error)
    }
    return Array.isArray(kept) ? Promise.resolve(kept) : this.track(kept)
  }

  onDeliver(deliver: (events: readonly HubEvent[]) => void): void {
    this.deliver = deliver
  }

  head(): EventId {
    return this.announced
  }

  /** Refuses new publishes; waits only for those behind an async append (synchronous otherwise). */
  close(): void | Promise<void> {
    this.closed = true
    if (this.tail === undefined) {
      this.deliver = noop
      return
    }
    return this.tail.then(() => {
      this.deliver = noop
    })
  }

  /** Ids, append, announce: synchronous when the store is; the ids go back when anything fails. */
  private keep(batch: readonly ValidatedInput[]): HubEvent[] | Promise<HubEvent[]> {
    const before = this.ids.current
    const time = Date.now()
    let events: HubEvent[]
    let stored: void | PromiseLike<void>
    try {
      events = batch.map(({ topic, event, data, json, id, private: isPrivate }) => {
        const position = id ? this.ids.accept(id) : this.ids.next()
        const kept: HubEvent = { id: formatEventId(position), position, topic, event, data, json, time }
        // Only private events carry the field: ordinary ones stay the shape they always had.
        return isPrivate ? { ...kept, private: true } : kept
      })
    } catch (error) {
      this.ids.rollback(before)
      throw error
    }
    try {
      stored = this.history.append(events)
    } catch (error) {
      this.ids.rollback(before)
      throw storeFailure(error)
    }
    if (!isPromise(stored)) return this.announce(events)
    return Promise.resolve(stored).then(
      () => this.announce(events),
      (error: unknown) => {
        this.ids.rollback(before)
        throw storeFailure(error)
      },
    )
  }

  private announce(events: HubEvent[]): HubEvent[] {
    const last = events.at(-1)
    if (last) this.announced = last.position
    this.deliver(events)
    return events
  }

  /** Makes later publishes wait for `result` to settle, either way. */
  private track(result: Promise<HubEvent[]>): Promise<HubEvent[]> {
    const settled = result.then(noop, noop)
    this.tail = settled
    void settled.then(() => {
      if (this.tail === settled) this.tail = undefined
    })
    return result
  }
}

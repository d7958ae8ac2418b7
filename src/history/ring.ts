/** Slots a ring starts with: a topic holding one event costs a handful of slots, not `capacity`. */
const INITIAL_SLOTS = 2

/**
 * A bounded FIFO: pushing onto a full ring drops (and returns) the oldest item. The backing store
 * starts small and doubles as items arrive, up to `capacity`, so a ring's memory follows its use;
 * after `shift` empties most of it, it halves again.
 *
 * Items have absolute positions that never change: the first item ever pushed is 0, the next 1,
 * and so on. `first` is the position of the oldest item still held (the count of items dropped so
 * far) and `end` the position the next push gets, so a reader can remember where it was and later
 * tell whether that item is still here (`position >= first`), whatever was pushed or dropped
 * meanwhile.
 */
export class Ring<T> {
  private items: (T | undefined)[]
  /** Slot of the oldest item. */
  private start = 0
  private count = 0
  private dropped = 0

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(Math.min(capacity, INITIAL_SLOTS))
  }

  /** Items held. */
  get length(): number {
    return this.count
  }

  /** Slots allocated now (between `length` and `capacity`); for tests and memory figures. */
  get allocated(): number {
    return this.items.length
  }

  /** Absolute position of the oldest item held (= items dropped so far). */
  get first(): number {
    return this.dropped
  }

  /** Absolute position the next pushed item gets (one past the newest). */
  get end(): number {
    return this.dropped + this.count
  }

  /** Item `index` counted from the oldest held (0). */
  at(index: number): T {
    return this.items[(this.start + index) % this.items.length] as T
  }

  /** The item at absolute `position`; only valid for `first <= position < end`. */
  get(position: number): T {
    return this.at(position - this.dropped)
  }

  /** Appends; returns the evicted oldest item when the ring was full. */
  push(item: T): T | undefined {
    if (this.count < this.capacity) {
      if (this.count === this.items.length) this.resize(Math.min(this.capacity, this.items.length * 2))
      this.items[(this.start + this.count++) % this.items.length] = item
      return undefined
    }
    const evicted = this.items[this.start] as T
    this.items[this.start] = item
    this.start = (this.start + 1) % this.items.length
    this.dropped++
    return evicted
  }

  /** Removes and returns the oldest item (undefined when empty). */
  shift(): T | undefined {
    if (this.count === 0) return undefined
    const item = this.items[this.start] as T
    this.items[this.start] = undefined
    this.start = (this.start + 1) % this.items.length
    this.count--
    this.dropped++
    // Give memory back once mostly empty (a quarter, so push/shift at the edge cannot thrash).
    if (this.items.length > INITIAL_SLOTS && this.count <= this.items.length / 4) this.resize(Math.max(INITIAL_SLOTS, Math.ceil(this.items.length / 2)))
    return item
  }

  /** Index (from the oldest held) of the first item for which `isAfter` is true (items are sorted), or `length`. */
  firstIndexWhere(isAfter: (item: T) => boolean): number {
    let low = 0
    let high = this.count
    while (low < high) {
      const mid = (low + high) >>> 1
      if (isAfter(this.at(mid))) high = mid
      else low = mid + 1
    }
    return low
  }

  /** Moves the items, oldest first, into `slots` fresh slots (slots >= length). */
  private resize(slots: number): void {
    const items = new Array<T | undefined>(slots)
    for (let i = 0; i < this.count; i++) items[i] = this.at(i)
    this.items = items
    this.start = 0
  }
}

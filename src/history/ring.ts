/** A fixed-capacity FIFO: pushing onto a full ring drops (and returns) the oldest item. */
export class Ring<T> {
  private readonly items: (T | undefined)[]
  private start = 0
  private count = 0

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity)
  }

  get length(): number {
    return this.count
  }

  /** Item `index` counted from the oldest (0). */
  at(index: number): T {
    return this.items[(this.start + index) % this.capacity] as T
  }

  /** Appends; returns the evicted oldest item when the ring was full. */
  push(item: T): T | undefined {
    if (this.count < this.capacity) {
      this.items[(this.start + this.count++) % this.capacity] = item
      return undefined
    }
    const evicted = this.items[this.start] as T
    this.items[this.start] = item
    this.start = (this.start + 1) % this.capacity
    return evicted
  }

  /** Removes and returns the oldest item (undefined when empty). */
  shift(): T | undefined {
    if (this.count === 0) return undefined
    const item = this.items[this.start] as T
    this.items[this.start] = undefined
    this.start = (this.start + 1) % this.capacity
    this.count--
    return item
  }

  /** Index of the first item for which `isAfter` is true (items are sorted), or `length`. */
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
}

import { compareIds, type EventId } from '../hub/id'

/** Something with an id to be ordered by: in a k-way merge, the next item of one sorted source. */
export interface Keyed {
  key: EventId
}

/**
 * A binary min-heap by `key` (oldest id on top), for merging k id-sorted sources: each step costs
 * O(log k) and nothing is ever sorted whole.
 */
export class IdHeap<T extends Keyed> {
  private readonly items: T[] = []

  get size(): number {
    return this.items.length
  }

  /** The entry with the oldest key, or undefined when empty. */
  peek(): T | undefined {
    return this.items[0]
  }

  push(item: T): void {
    const items = this.items
    let at = items.push(item) - 1
    while (at > 0) {
      const parent = (at - 1) >> 1
      if (compareIds((items[parent] as T).key, item.key) <= 0) break
      items[at] = items[parent] as T
      at = parent
    }
    items[at] = item
  }

  /** Restores the order after the top entry's key grew (its source moved on). */
  topChanged(): void {
    this.siftDown(0)
  }

  /** Removes the top entry (its source is exhausted). */
  pop(): void {
    const last = this.items.pop()
    if (last === undefined || this.items.length === 0) return
    this.items[0] = last
    this.siftDown(0)
  }

  private siftDown(from: number): void {
    const items = this.items
    const item = items[from] as T
    const count = items.length
    let at = from
    for (;;) {
      let child = 2 * at + 1
      if (child >= count) break
      const right = child + 1
      if (right < count && compareIds((items[right] as T).key, (items[child] as T).key) < 0) child = right
      if (compareIds((items[child] as T).key, item.key) >= 0) break
      items[at] = items[child] as T
      at = child
    }
    items[at] = item
  }
}

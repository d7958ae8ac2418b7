/**
 * One position in the trie: the patterns whose leading segments spell the path to it. A pattern's
 * value lives at the node after its last literal or `*` segment (`end`), or, when it ends with
 * `**`, at the node before that segment (`rest`).
 */
interface Node<T> {
  /** Children by literal segment; created on first use, as most nodes have none or one. */
  literal: Map<string, Node<T>> | undefined
  /** The child for a `*` segment. */
  star: Node<T> | undefined
  /** The value of the pattern that ends here. */
  end: T | undefined
  /** The value of the pattern that is this path followed by `**` (one or more further segments). */
  rest: T | undefined
}

const newNode = <T>(): Node<T> => ({ literal: undefined, star: undefined, end: undefined, rest: undefined })

/**
 * Patterns (topics.ts syntax: `*` is one whole segment, a final `**` one or more) → one value each,
 * in a segment trie. Finding the patterns that match a topic walks only the branches that match it:
 * at each segment the literal child of that name and the `*` child, so the cost is the topic's
 * segments times the branches that match, whatever the number of unrelated patterns. Adding or
 * removing a pattern costs its segments; nodes left empty by a removal are freed.
 *
 * Patterns are assumed valid (parsed by parseSelector): no empty segment, `**` only last.
 */
export class PatternIndex<T> {
  private readonly root: Node<T> = newNode()
  private count = 0

  /** Number of distinct patterns held. */
  get size(): number {
    return this.count
  }

  /** The value held for `pattern`, or undefined. */
  get(pattern: string): T | undefined {
    const segments = pattern.split('/')
    const tail = segments.at(-1) === '**'
    let node: Node<T> | undefined = this.root
    for (let i = 0; node && i < segments.length - (tail ? 1 : 0); i++) node = step(node, segments[i] as string)
    return node && (tail ? node.rest : node.end)
  }

  /** Sets the value for `pattern` (replacing any). */
  set(pattern: string, value: T): void {
    const segments = pattern.split('/')
    const tail = segments.at(-1) === '**'
    let node = this.root
    for (let i = 0; i < segments.length - (tail ? 1 : 0); i++) {
      const segment = segments[i] as string
      if (segment === '*') {
        node = node.star ??= newNode()
        continue
      }
      node.literal ??= new Map()
      let child = node.literal.get(segment)
      if (!child) node.literal.set(segment, (child = newNode()))
      node = child
    }
    if ((tail ? node.rest : node.end) === undefined) this.count++
    if (tail) node.rest = value
    else node.end = value
  }

  /** Removes `pattern` and frees the nodes only it used. Returns whether it was held. */
  delete(pattern: string): boolean {
    const segments = pattern.split('/')
    const tail = segments.at(-1) === '**'
    const depth = segments.length - (tail ? 1 : 0)
    const path: Node<T>[] = [this.root]
    for (let i = 0; i < depth; i++) {
      const next = step(path[i] as Node<T>, segments[i] as string)
      if (!next) return false
      path.push(next)
    }
    const last = path[depth] as Node<T>
    if ((tail ? last.rest : last.end) === undefined) return false
    if (tail) last.rest = undefined
    else last.end = undefined
    this.count--
    // Unlink empty nodes bottom-up, stopping at the first one something else still uses.
    for (let i = depth; i > 0; i--) {
      const node = path[i] as Node<T>
      if (node.end !== undefined || node.rest !== undefined || node.star || node.literal?.size) break
      const parent = path[i - 1] as Node<T>
      const segment = segments[i - 1] as string
      if (segment === '*') parent.star = undefined
      else {
        parent.literal?.delete(segment)
        if (parent.literal?.size === 0) parent.literal = undefined
      }
    }
    return true
  }

  /**
   * Calls `visit` with the value of every pattern matching `topic` (a valid concrete topic), each
   * once, until `visit` returns true. Returns true when it stopped early.
   */
  match(topic: string, visit: (value: T) => boolean | void): boolean {
    if (this.count === 0) return false
    return walk(this.root, topic, 0, visit)
  }
}

function step<T>(node: Node<T>, segment: string): Node<T> | undefined {
  return segment === '*' ? node.star : node.literal?.get(segment)
}

/**
 * Depth-first over the matching branches, from the segment of `topic` starting at `start` (past
 * the end: the topic is used up). Segments are sliced only where a literal child may match, not
 * split up front (splitting cost more than the walk). Recursion depth is at most 32 segments.
 */
function walk<T>(node: Node<T>, topic: string, start: number, visit: (value: T) => boolean | void): boolean {
  if (start > topic.length) return node.end !== undefined && visit(node.end) === true
  // `**` here matches the one or more segments that are left.
  if (node.rest !== undefined && visit(node.rest) === true) return true
  let end = topic.indexOf('/', start)
  if (end === -1) end = topic.length
  if (node.literal) {
    const child = node.literal.get(topic.slice(start, end))
    if (child && walk(child, topic, end + 1, visit)) return true
  }
  return node.star !== undefined && walk(node.star, topic, end + 1, visit)
}

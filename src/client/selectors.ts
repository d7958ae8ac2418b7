/**
 * Topic selectors as the client needs them (syntax: src/hub/topics.ts): `*` is one whole segment,
 * a final `**` one or more. The server validates selectors; these only route and group.
 */

/** True when `topic` matches `selector`. */
export function matches(selector: string, topic: string): boolean {
  if (selector === topic) return true
  const want = selector.split('/')
  const have = topic.split('/')
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '**') return i === want.length - 1 && have.length > i
    if (i >= have.length || (want[i] !== '*' && want[i] !== have[i])) return false
  }
  return want.length === have.length
}

/** True when some topic could match both selectors (never false when one does). */
export function overlaps(a: string, b: string): boolean {
  const x = a.split('/')
  const y = b.split('/')
  for (let i = 0; ; i++) {
    const s = x[i]
    const t = y[i]
    if (s === undefined || t === undefined) return s === t
    if (s === '**' || t === '**') return true
    if (s !== '*' && t !== '*' && s !== t) return false
  }
}

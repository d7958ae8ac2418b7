/**
 * Selector containment for Herald's selector syntax (topics.ts): `*` is exactly one segment, a final
 * `**` is one or more segments, anything else is a literal segment.
 */

/**
 * True when every topic `inner` can match is also matched by `outer` (both valid selector sources,
 * as `parseSelector` accepts them). Used for permissions: a subscriber may subscribe with `inner`
 * only if one rule it holds contains it, so it can never receive, through its own wildcard, a topic
 * its rules do not cover. `a/**` contains `a/*`, `a/b/c` and `a/*\/**`; it does not contain `a`
 * (`**` needs at least one segment), and `a/*` does not contain `a/**`.
 *
 * Sound, never optimistic: it answers as if topics could have any number of segments, so it may
 * say false at the extremes of the topic limits (32 segments) where the answer could be true; it
 * never says true where a topic matched by `inner` is not matched by `outer`. It compares one
 * selector with one selector: `inner` covered only by the union of several rules is not contained.
 */
export function selectorContains(outer: string, inner: string): boolean {
  return segmentsContain(outer.split('/'), inner.split('/'))
}

/** selectorContains on selectors already split into segments (for rules checked many times). */
export function segmentsContain(outer: readonly string[], inner: readonly string[]): boolean {
  const outerTail = outer[outer.length - 1] === '**'
  const innerTail = inner[inner.length - 1] === '**'
  // The fixed segments of each: everything before a final `**`.
  const outerFixed = outerTail ? outer.length - 1 : outer.length
  const innerFixed = innerTail ? inner.length - 1 : inner.length
  if (outerTail) {
    // `outer` matches every topic of at least outerFixed + 1 segments whose first outerFixed match.
    // `inner`'s topics have at least innerFixed (+1 with its own `**`) segments: enough, if
    // inner's shortest topic reaches past outer's fixed part.
    const innerMin = innerTail ? innerFixed + 1 : innerFixed
    if (innerMin < outerFixed + 1) return false
  } else {
    // `outer` matches topics of exactly outer.length segments; `inner` with a `**` matches longer ones.
    if (innerTail || innerFixed !== outerFixed) return false
  }
  for (let i = 0; i < outerFixed; i++) {
    // i < outerFixed <= innerFixed here (checked above), so inner[i] is a fixed segment.
    if (!segmentContains(outer[i] as string, inner[i] as string)) return false
  }
  return true
}

/** One fixed segment of `outer` against one of `inner`: `*` contains every segment, a literal only itself. */
function segmentContains(outer: string, inner: string): boolean {
  return outer === '*' || (inner !== '*' && inner === outer)
}

import { HubError } from './errors'

/** Longest piece of a client's field name echoed back in an error message. */
const ECHO_LIMIT = 64

/** Edit distance between two short strings (field names: a few characters). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length] as number
}

/**
 * The allowed field `name` was most likely meant to be: the same letters in another case or
 * Unicode form (`Data`, fullwidth `ｄａｔａ`), or one or two typos away (`evnt`, `dta`).
 */
function nearest(name: string, allowed: readonly string[]): string | undefined {
  if (name.length > ECHO_LIMIT) return undefined
  const folded = name.normalize('NFKC').toLowerCase()
  let best: { field: string; cost: number } | undefined
  for (const field of allowed) {
    const cost = distance(folded, field.toLowerCase())
    const tolerance = field.length <= 3 ? 1 : 2
    if (cost <= tolerance && (!best || cost < best.cost)) best = { field, cost }
  }
  return best?.field
}

/**
 * Refuses an object that carries a field outside `allowed` (own keys, so `__proto__` and
 * `constructor` parsed from JSON count too), with `unknown_field` and a message that names the
 * field, the likely intended one, and every allowed one. `what` names the object for the message
 * ("a publish", "item 2", "a subscribe message"). Input that was silently dropped before (a typo
 * such as `evnt` published with the default name) is refused instead.
 */
export function refuseUnknownFields(value: object, allowed: readonly string[], what: string): void {
  for (const name in value) {
    if (!Object.hasOwn(value, name) || allowed.includes(name)) continue
    const shown = JSON.stringify(name.length > ECHO_LIMIT ? `${name.slice(0, ECHO_LIMIT)}…` : name)
    const guess = nearest(name, allowed)
    const didYouMean = guess ? ` (did you mean "${guess}"?)` : ''
    throw new HubError('unknown_field', `unknown field ${shown} in ${what}${didYouMean}; allowed fields: ${allowed.join(', ')}`)
  }
}

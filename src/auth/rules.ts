import { segmentsContain } from '../hub/containment'
import type { Selector } from '../hub/topics'

/**
 * A list of permission selectors (a token's `herald.publish` or `herald.subscribe`, or `--public`),
 * compiled for the two questions asked of it: does one of them match this topic, and does one of
 * them contain this selector. Immutable; cheap to ask (exact topics are a set lookup).
 */
export class SelectorRules {
  /** No rule: matches nothing, contains nothing. */
  static readonly NONE = new SelectorRules([])

  private readonly exact: ReadonlySet<string>
  private readonly patterns: readonly Selector[]
  private readonly segments: readonly (readonly string[])[]
  /** True when one rule is `**`: it matches every topic and contains every selector. */
  readonly everything: boolean

  constructor(readonly selectors: readonly Selector[]) {
    this.exact = new Set(selectors.filter((selector) => !selector.isPattern).map((selector) => selector.source))
    this.patterns = selectors.filter((selector) => selector.isPattern)
    this.segments = selectors.map((selector) => selector.source.split('/'))
    this.everything = selectors.some((selector) => selector.source === '**')
  }

  /** True when a rule matches this concrete topic. */
  matches(topic: string): boolean {
    if (this.everything || this.exact.has(topic)) return true
    for (const pattern of this.patterns) if (pattern.matches(topic)) return true
    return false
  }

  /** True when one rule alone contains `selector` (every topic it can match, that rule matches): see selectorContains. */
  contains(selector: Selector): boolean {
    if (this.everything) return true
    if (!selector.isPattern) return this.matches(selector.source)
    const inner = selector.source.split('/')
    for (const outer of this.segments) if (segmentsContain(outer, inner)) return true
    return false
  }

  /** The rules as written (for logs and tests). */
  get sources(): string[] {
    return this.selectors.map((selector) => selector.source)
  }
}

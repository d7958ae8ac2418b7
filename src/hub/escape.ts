import { HubError } from './errors'

/**
 * Characters kept as they are: the topic segment alphabet (topics.ts) less `~`, which is the escape
 * character. `%` cannot be the escape: it is not a topic character.
 */
const KEPT = /^[A-Za-z0-9_\-.:@+=,!]$/

const encoder = new TextEncoder()

/**
 * Any text (a token's `sub`, a user name) as ONE literal topic segment, so it can be put inside a
 * topic or selector without adding segments or wildcards: `ada` stays `ada`; every other character
 * (including `/`, `*`, `%`, `~`, spaces and non-ASCII) becomes `~` followed by its UTF-8 bytes as
 * two upper-case hex digits each (`a/b` → `a~2Fb`, `*` → `~2A`, `é` → `~C3~A9`); and a text made
 * only of dots has every dot escaped (`..` → `~2E~2E`), since HTTP clients collapse `.`/`..` path
 * segments in `POST /topics/…` URLs.
 *
 * The mapping is injective (two different texts never give the same segment: `~` itself is
 * escaped, so the result decodes back to the text), and the result is always a valid segment.
 * Use it everywhere a name becomes part of a topic (Herald's `{sub}` in token claims, the demos),
 * so the same person always gets the same topics.
 *
 * Throws HubError `invalid_topic` for the empty string and for text that is not well-formed
 * Unicode (a lone surrogate would be encoded as U+FFFD and collide with a real U+FFFD).
 */
export function escapeSegment(text: string): string {
  if (text.length === 0) throw new HubError('invalid_topic', 'an empty name cannot be a topic segment')
  if (!text.isWellFormed()) throw new HubError('invalid_topic', 'a name with a lone surrogate (not well-formed Unicode) cannot be a topic segment')
  const dotsOnly = /^\.+$/.test(text)
  let out = ''
  for (const char of text) {
    if (!dotsOnly && KEPT.test(char)) {
      out += char
      continue
    }
    for (const byte of encoder.encode(char)) out += `~${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

import { describe, expect, test } from 'bun:test'
import { HubError } from '../../src/hub/errors'
import { parseSelector, validateTopic } from '../../src/hub/topics'

function codeOf(run: () => unknown): string | undefined {
  try {
    run()
  } catch (error) {
    return error instanceof HubError ? error.code : 'not a HubError'
  }
  return undefined
}

describe('topic syntax', () => {
  test.each(['news', 'chat/room-1', 'a/b/c', 'user:42/inbox', 'v1.0/x_y~z@q+r=s,t!'])('accepts %p', (topic) => {
    expect(validateTopic(topic)).toBe(topic)
  })

  test.each([['', 'empty'], ['a//b', 'empty segment'], ['/a', 'leading slash'], ['a/', 'trailing slash'], ['a b', 'space'], ['chat/*', 'wildcard'], ['a\nb', 'newline'], ['x'.repeat(257), 'too long'], [Array(33).fill('a').join('/'), 'too deep'], ['ünï', 'non-ASCII']])(
    'rejects %p (%s)',
    (topic) => {
      expect(codeOf(() => validateTopic(topic))).toBe('invalid_topic')
    },
  )

  test('rejects non-strings', () => {
    expect(codeOf(() => validateTopic(42))).toBe('invalid_topic')
    expect(codeOf(() => validateTopic(undefined))).toBe('invalid_topic')
  })
})

describe('selectors', () => {
  test('a concrete selector matches only its topic', () => {
    const selector = parseSelector('chat/room-1')
    expect(selector.isPattern).toBe(false)
    expect(selector.matches('chat/room-1')).toBe(true)
    expect(selector.matches('chat/room-10')).toBe(false)
  })

  test('* matches exactly one segment', () => {
    const selector = parseSelector('chat/*')
    expect(selector.isPattern).toBe(true)
    expect(selector.matches('chat/room-1')).toBe(true)
    expect(selector.matches('chat')).toBe(false)
    expect(selector.matches('chat/a/b')).toBe(false)
    expect(parseSelector('*/inbox').matches('ada/inbox')).toBe(true)
  })

  test('a final ** matches one or more segments', () => {
    const selector = parseSelector('chat/**')
    expect(selector.matches('chat/a')).toBe(true)
    expect(selector.matches('chat/a/b/c')).toBe(true)
    expect(selector.matches('chat')).toBe(false)
    expect(selector.matches('chatter/a')).toBe(false)
    expect(parseSelector('**').matches('any/thing')).toBe(true)
  })

  test('dots and pluses in a pattern are literal', () => {
    expect(parseSelector('v1.0/*').matches('v1x0/a')).toBe(false)
    expect(parseSelector('a+b/*').matches('aab/x')).toBe(false)
    expect(parseSelector('a+b/*').matches('a+b/x')).toBe(true)
  })

  test.each(['a/**/b', 'a/b*', 'a/*x', '***', 'a//*', ''])('rejects %p', (selector) => {
    expect(codeOf(() => parseSelector(selector))).toBe('invalid_selector')
  })
})

import { describe, expect, test } from 'bun:test'
import { findToken, redactAccessToken } from '../../src/auth/carriers'
import { HubError } from '../../src/hub/errors'

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl'
const OTHER = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.b3RoZXI'

function request(url = 'http://h/events?topic=a', headers: [string, string][] = []): Request {
  const init = new Headers()
  for (const [name, value] of headers) init.append(name, value)
  return new Request(url, { headers: init })
}

function malformed(make: () => unknown): string {
  let caught: unknown
  try {
    make()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(HubError)
  expect((caught as HubError).code).toBe('invalid_token')
  return (caught as HubError).message
}

describe('each carrier', () => {
  test('Authorization: Bearer, any letter case of the scheme', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      expect(findToken(request(undefined, [['authorization', `${scheme} ${JWT}`]]))).toEqual({ token: JWT, carrier: 'header' })
    }
    expect(findToken(request(undefined, [['authorization', `  Bearer   ${JWT}  `]]))).toEqual({ token: JWT, carrier: 'header' })
  })

  test('the herald_token cookie, among others; a configured name', () => {
    expect(findToken(request(undefined, [['cookie', `theme=dark; herald_token=${JWT}; x=1`]]))).toEqual({ token: JWT, carrier: 'cookie' })
    expect(findToken(request(undefined, [['cookie', `herald_token="${JWT}"`]]))).toEqual({ token: JWT, carrier: 'cookie' })
    expect(findToken(request(undefined, [['cookie', `rt=${JWT}`]]), 'rt')).toEqual({ token: JWT, carrier: 'cookie' })
    expect(findToken(request(undefined, [['cookie', `herald_token=${JWT}`]]), 'rt')).toBeUndefined()
    expect(findToken(request(undefined, [['cookie', `not_herald_token=${JWT}`]]))).toBeUndefined()
  })

  test('?access_token=', () => {
    expect(findToken(request(`http://h/events?topic=a&access_token=${JWT}`))).toEqual({ token: JWT, carrier: 'query' })
    expect(findToken(request(`http://h/ws?access%5Ftoken=${JWT}`))).toEqual({ token: JWT, carrier: 'query' })
  })

  test('none → undefined; an empty cookie (a logout) or an empty access_token counts as none', () => {
    expect(findToken(request())).toBeUndefined()
    expect(findToken(request('http://h/events?access_token=', [['cookie', 'herald_token=']]))).toBeUndefined()
  })

  test('another Authorization scheme (a proxy\'s Basic) is not Herald\'s: ignored, the next carrier is used', () => {
    expect(findToken(request(undefined, [['authorization', 'Basic dXNlcjpwYXNz']]))).toBeUndefined()
    expect(findToken(request(`http://h/e?access_token=${JWT}`, [['authorization', 'Basic dXNlcjpwYXNz']]))).toEqual({ token: JWT, carrier: 'query' })
    expect(findToken(request(undefined, [['authorization', 'Bearertoken']]))).toBeUndefined()
  })
})

test('precedence: header over cookie over query; the losers are not even read', () => {
  const all = request(`http://h/e?access_token=bad%20token`, [
    ['authorization', `Bearer ${JWT}`],
    ['cookie', 'herald_token=also bad'],
  ])
  expect(findToken(all)).toEqual({ token: JWT, carrier: 'header' })
  expect(findToken(request(`http://h/e?access_token=${OTHER}`, [['cookie', `herald_token=${JWT}`]]))).toEqual({ token: JWT, carrier: 'cookie' })
})

describe('malformed carriers → invalid_token (never a fall-through to the next)', () => {
  test.each([['Bearer'], ['Bearer '], ['bearer    '], [`Bearer ${JWT} ${OTHER}`], [`Bearer ${JWT}, Bearer ${OTHER}`], ['Bearer a"b'], ['Bearer tok\u00e9n'], ['Bearer a;b'], [`Basic x, Bearer ${JWT}`]])('Authorization %p', (value) => {
    malformed(() => findToken(request(`http://h/e?access_token=${JWT}`, [['authorization', value]])))
  })

  test('two Authorization headers', () => {
    malformed(() => findToken(request(undefined, [['authorization', `Bearer ${JWT}`], ['authorization', `Bearer ${OTHER}`]])))
  })

  test('two cookies of the same name (cookie tossing from a parent domain)', () => {
    expect(malformed(() => findToken(request(undefined, [['cookie', `herald_token=${JWT}; herald_token=${OTHER}`]])))).toContain('2 cookies')
  })

  test('a cookie or query value with characters a token cannot have', () => {
    malformed(() => findToken(request(undefined, [['cookie', 'herald_token=a<b>']])))
    malformed(() => findToken(request('http://h/e?access_token=a%20b')))
    malformed(() => findToken(request('http://h/e?access_token=a%0Ab')))
  })

  test('two access_token parameters', () => {
    malformed(() => findToken(request(`http://h/e?access_token=${JWT}&access_token=${OTHER}`)))
  })

  test('the message never contains the token', () => {
    expect(malformed(() => findToken(request(undefined, [['authorization', `Bearer ${JWT} ${OTHER}`]])))).not.toContain(JWT)
  })
})

describe('redactAccessToken', () => {
  test.each([
    [`/events?topic=a&access_token=${JWT}`, '/events?topic=a&access_token=REDACTED'],
    [`http://h:1/ws?access_token=${JWT}&topic=b#frag`, 'http://h:1/ws?access_token=REDACTED&topic=b#frag'],
    [`/e?access%5Ftoken=${JWT}&access_token=${OTHER}`, '/e?access%5Ftoken=REDACTED&access_token=REDACTED'],
    ['/e?access_token', '/e?access_token=REDACTED'],
    ['/e?topic=access_token', '/e?topic=access_token'],
    ['/e?my_access_token=x', '/e?my_access_token=x'],
    ['/e?topic=a&topic=b', '/e?topic=a&topic=b'],
    ['/e', '/e'],
    ['/e?%E0%A4%A=x', '/e?%E0%A4%A=x'],
  ])('%p → %p', (url, expected) => {
    expect(redactAccessToken(url)).toBe(expected)
  })

  test('whatever findToken reads from a query, the redacted URL no longer holds', () => {
    for (const name of ['access_token', 'access%5Ftoken', 'access%5ftoken', 'acc%65ss_token']) {
      const url = `http://h/e?${name}=${JWT}`
      expect(findToken(request(url))?.token).toBe(JWT)
      expect(redactAccessToken(url)).not.toContain(JWT)
      expect(findToken(request(redactAccessToken(url)))?.token).toBe('REDACTED')
    }
  })
})

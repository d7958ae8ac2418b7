/** The `herald` claim → the principal's rights; `{sub}`; private events; anonymous and open principals. */
import { describe, expect, test } from 'bun:test'
import type { HubEvent } from '../../src/hub/event'
import { parseSelector } from '../../src/hub/topics'
import { authenticator, forge, refused, SECRET, sign } from './fixtures'

const auth = authenticator({ jwtSecret: SECRET, public: ['news/**', 'status'] })

function event(topic: string, isPrivate?: boolean): HubEvent {
  return { id: '1-0', position: { ms: 1, seq: 0 }, topic, data: 'x', json: false, time: 1, ...(isPrivate === undefined ? {} : { private: isPrivate }) } as HubEvent
}

const may = (principal: { maySubscribe(selector: ReturnType<typeof parseSelector>): boolean }, source: string) => principal.maySubscribe(parseSelector(source))

describe('the herald claim must have its exact shape', () => {
  test.each([
    ['[]', 'object'],
    ['"users/**"', 'object'],
    ['null', 'object'],
    ['42', 'object'],
    ['true', 'object'],
    ['{"subscribe": ["a"], "admin": true}', 'unknown field "admin"'],
    ['{"Subscribe": ["a"]}', 'unknown field'],
    ['{"__proto__": ["a"]}', 'unknown field'],
    ['{"subscribe": "users/**"}', 'must be an array'],
    ['{"publish": {"0": "a"}}', 'must be an array'],
    ['{"subscribe": [42]}', 'must be a string'],
    ['{"subscribe": [null]}', 'must be a string'],
    ['{"subscribe": [["a"]]}', 'must be a string'],
    ['{"subscribe": ["a/**/b"]}', 'not a valid selector'],
    ['{"subscribe": [""]}', 'not a valid selector'],
    ['{"publish": ["a b"]}', 'not a valid selector'],
    ['{"publish": ["users/{user}/x"]}', 'not a valid selector'],
    [`{"subscribe": ["${'x/'.repeat(200)}x"]}`, 'not a valid selector'],
  ])('herald: %s → invalid_token (%s)', async (herald, fragment) => {
    // Parsed from text, as a token's payload is (so "__proto__" is an own key).
    const payload = JSON.parse(`{"sub": "ada", "exp": 4102444800, "herald": ${herald}}`) as Record<string, unknown>
    expect(await refused(auth.verify(forge({ alg: 'HS256' }, payload)), 'invalid_token')).toContain(fragment)
  })

  test('a claim list of --jwt-max-selectors (100) selectors passes; 101 is refused', async () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => `room/${i}`)
    const principal = await auth.verify(await sign({ herald: { subscribe: list(100), publish: list(100) } }))
    expect(principal.mayPublish('room/99')).toBe(true)
    expect(await refused(auth.verify(await sign({ herald: { subscribe: list(101) } })), 'invalid_token')).toContain('at most 100')
    expect(await refused(auth.verify(await sign({ herald: { publish: list(101) } })), 'invalid_token')).toContain('--jwt-max-selectors')
  })

  test('no herald claim: a token with no rights beyond --public', async () => {
    const principal = await auth.verify(await sign({ sub: 'ada' }))
    expect(principal.subject).toBe('ada')
    expect(principal.mayPublish('news/a')).toBe(false)
    expect(may(principal, 'news/**')).toBe(true)
    expect(may(principal, 'chat/a')).toBe(false)
  })

  test('a sub that is not a string → invalid_token', async () => {
    for (const sub of [42, null, ['ada'], { id: 1 }]) await refused(auth.verify(forge({ alg: 'HS256' }, { sub, herald: { subscribe: ['a'] } })), 'invalid_token')
  })
})

describe('{sub} is the token\'s subject as one literal segment', () => {
  const HOSTILE = ['a/b', '*', '**', '..', '.', '%2F', '~2F', 'ada/../*', 'é', '👩‍🚀', ' ', '\n', 'x'.repeat(60)]

  test.each(HOSTILE)('sub %p gets exactly its own users/<sub>/** and nothing wider', async (sub) => {
    const principal = await auth.verify(await sign({ sub, herald: { subscribe: ['users/{sub}/**'], publish: ['users/{sub}/outbox'] } }))
    const subscribe = (principal as unknown as { subscribe: { sources: string[] } }).subscribe.sources
    expect(subscribe).toHaveLength(1)
    const own = (subscribe[0] as string).slice('users/'.length, -'/**'.length)
    // One segment, no wildcard, no slash.
    expect(own).not.toContain('/')
    expect(own).not.toBe('*')
    expect(own).not.toBe('**')
    expect(parseSelector(`users/${own}`).isPattern).toBe(false)
    expect(may(principal, `users/${own}/inbox`)).toBe(true)
    expect(may(principal, `users/${own}/**`)).toBe(true)
    for (const wider of ['users/*/inbox', 'users/**', 'users/*/**', 'users/bob/inbox', '**', 'users/a/inbox', 'users/b/inbox']) expect(may(principal, wider)).toBe(false)
    expect(principal.mayPublish(`users/${own}/outbox`)).toBe(true)
    expect(principal.mayPublish('users/a/outbox')).toBe(false)
    expect(principal.mayPublish('users/b/outbox')).toBe(false)
    expect(principal.maySee(event('users/bob/inbox', true))).toBe(false)
    expect(principal.maySee(event(`users/${own}/inbox`, true))).toBe(true)
  })

  test('two different subs never get the same topics', async () => {
    const topics = new Map<string, string>()
    for (const sub of [...HOSTILE, 'ada', 'Ada', 'ada ', 'a~2Fb', '~2A']) {
      const principal = await auth.verify(await sign({ sub, herald: { subscribe: ['users/{sub}/**'] } }))
      const source = (principal as unknown as { subscribe: { sources: string[] } }).subscribe.sources[0] as string
      expect(topics.get(source)).toBeUndefined()
      topics.set(source, sub)
    }
  })

  test('{sub} inside a segment and several times', async () => {
    const principal = await auth.verify(await sign({ sub: 'a/b', herald: { subscribe: ['dm/{sub}-{sub}/*'] } }))
    expect(may(principal, 'dm/a~2Fb-a~2Fb/x')).toBe(true)
    expect(may(principal, 'dm/a/b-a/b/x')).toBe(false)
  })

  test.each([
    ['absent', {}],
    ['empty', { sub: '' }],
    ['a lone surrogate', { sub: '\uD800' }],
  ])('a %s sub with {sub} in a selector → invalid_token', async (_name, claims) => {
    await refused(auth.verify(forge({ alg: 'HS256' }, { ...claims, herald: { subscribe: ['users/{sub}/**'] } })), 'invalid_token')
  })

  test('a 10 KB sub makes the selector too long → invalid_token; without {sub} it is just the subject', async () => {
    const sub = 'x'.repeat(10_240)
    expect(await refused(auth.verify(await sign({ sub, herald: { subscribe: ['users/{sub}/**'] } })), 'invalid_token')).toContain('not a valid selector')
    expect((await auth.verify(await sign({ sub, herald: { subscribe: ['news/**'] } }))).subject).toBe(sub)
  })
})

describe('rights', () => {
  test('maySubscribe: contained in one subscribe rule or one --public rule; a wider wildcard is refused', async () => {
    const principal = await auth.verify(await sign({ sub: 'ada', herald: { subscribe: ['chat/*', 'users/{sub}/**'] } }))
    for (const ok of ['chat/a', 'chat/*', 'users/ada/x', 'users/ada/*/y', 'users/ada/**', 'news/a', 'news/**', 'news/*/b', 'status']) expect(may(principal, ok)).toBe(true)
    for (const no of ['chat/**', 'chat', 'chat/a/b', 'users/*/x', 'users/**', 'users/ada', '**', '*', 'news', 'status/x', '*/a']) expect(may(principal, no)).toBe(false)
  })

  test('mayPublish: a publish rule matches the topic (never --public, never subscribe rules)', async () => {
    const principal = await auth.verify(await sign({ sub: 'ada', herald: { publish: ['chat/*', 'exact/topic'], subscribe: ['users/{sub}/**'] } }))
    for (const ok of ['chat/a', 'exact/topic']) expect(principal.mayPublish(ok)).toBe(true)
    for (const no of ['chat', 'chat/a/b', 'exact', 'news/a', 'status', 'users/ada/x']) expect(principal.mayPublish(no)).toBe(false)
  })

  test('maySee: a private event only on a topic a TOKEN subscribe rule matches, never through --public', async () => {
    const principal = await auth.verify(await sign({ sub: 'ada', herald: { subscribe: ['users/{sub}/**', 'news/vip/*'] } }))
    expect(principal.maySee(event('users/ada/inbox', true))).toBe(true)
    expect(principal.maySee(event('news/vip/x', true))).toBe(true)
    expect(principal.maySee(event('news/general', true))).toBe(false)
    expect(principal.maySee(event('status', true))).toBe(false)
    expect(principal.maySee(event('users/bob/inbox', true))).toBe(false)
    // Events that are not private were checked at subscribe time: visible.
    expect(principal.maySee(event('news/general', false))).toBe(true)
    expect(principal.maySee(event('news/general'))).toBe(true)
    expect(principal.seesEverything).toBe(false)
  })

  test('seesEverything only for a token subscribed to **', async () => {
    const all = await auth.verify(await sign({ herald: { subscribe: ['**'] } }))
    expect(all.seesEverything).toBe(true)
    expect(all.maySee(event('any/thing', true))).toBe(true)
    expect(may(all, '**')).toBe(true)
    expect((await auth.verify(await sign({ herald: { subscribe: ['*/**'] } }))).seesEverything).toBe(false)
  })
})

describe('anonymous (no token, key configured)', () => {
  const anonymous = auth.anonymous()

  test('may subscribe within --public only, publish nothing, see no private event', () => {
    expect(anonymous.anonymous).toBe(true)
    expect(anonymous.subject).toBeUndefined()
    expect(anonymous.expiresAt).toBeUndefined()
    expect(anonymous.seesEverything).toBe(false)
    for (const ok of ['news/a', 'news/**', 'news/*/x', 'status']) expect(may(anonymous, ok)).toBe(true)
    for (const no of ['news', '**', '*', 'status/x', 'chat/a']) expect(may(anonymous, no)).toBe(false)
    for (const topic of ['news/a', 'status', 'chat/a']) expect(anonymous.mayPublish(topic)).toBe(false)
    expect(anonymous.maySee(event('news/a', true))).toBe(false)
    expect(anonymous.maySee(event('news/a'))).toBe(true)
  })

  test('without --public, anonymous may subscribe to nothing', () => {
    const closed = authenticator({ jwtSecret: SECRET }).anonymous()
    expect(may(closed, 'news/a')).toBe(false)
    expect(may(closed, '**')).toBe(false)
  })
})

import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { Delivery } from '../../src/hub/delivery'
import type { HubEvent } from '../../src/hub/event'
import { RoomHistory } from '../../src/demos/chat/history'
import { NameClaims } from '../../src/demos/chat/names'
import { CHAT_TEXT_MAX, chatText } from '../../src/demos/chat/topics'
import { startServer, type TestServer, waitFor, WsClient } from '../helpers'
import { chatPost, chatToken, requestToken } from './chat-client'

let sequence = 0
/** A delivered event as the hub hands it to fan-outs. */
function delivery(topic: string, data: unknown, event?: string, json = typeof data !== 'string'): Delivery {
  const ms = 1_764_135_000_000 + ++sequence
  const hubEvent: HubEvent = { id: `${ms}-0`, position: { ms, seq: 0 }, topic, event, data: typeof data === 'string' ? data : JSON.stringify(data), json, time: ms }
  return new Delivery(hubEvent, sequence)
}

describe('chatText: what a page shows as a message', () => {
  test('accepts {from, text} with a valid name and 1 to CHAT_TEXT_MAX characters', () => {
    expect(chatText(JSON.stringify({ from: 'ada', text: 'hi' }))).toEqual({ from: 'ada', text: 'hi' })
    expect(chatText(JSON.stringify({ from: 'ada', text: 'x'.repeat(CHAT_TEXT_MAX) }))?.text.length).toBe(CHAT_TEXT_MAX)
  })

  test.each([
    ['over the limit', { from: 'ada', text: 'x'.repeat(CHAT_TEXT_MAX + 1) }],
    ['blank text', { from: 'ada', text: ' \n ' }],
    ['text not a string', { from: 'ada', text: 42 }],
    ['no from', { text: 'hi' }],
    ['from not a name', { from: '<b>x</b>', text: 'hi' }],
    ['from not a string', { from: ['ada'], text: 'hi' }],
    ['null', null],
    ['a number', 7],
    ['an array', ['ada', 'hi']],
  ])('refuses %s', (_, value) => {
    expect(chatText(JSON.stringify(value))).toBeUndefined()
  })

  test('refuses text that is not JSON', () => {
    expect(chatText('hello')).toBeUndefined()
    expect(chatText('{"from":')).toBeUndefined()
  })
})

describe('RoomHistory', () => {
  test('keeps the newest perRoom messages of each room, exactly at the limit', () => {
    const history = new RoomHistory({ perRoom: 3, rooms: 10 })
    for (let n = 1; n <= 3; n++) history.receive(delivery('chat/room/lobby', { from: 'ada', text: `m${n}` }))
    expect(history.messages('lobby').map((message) => message.text)).toEqual(['m1', 'm2', 'm3'])
    history.receive(delivery('chat/room/lobby', { from: 'ada', text: 'm4' }))
    expect(history.messages('lobby').map((message) => message.text)).toEqual(['m2', 'm3', 'm4'])
    const [first] = history.messages('lobby')
    expect(first?.id).toMatch(/^\d+-\d+$/)
    expect(first?.at).toBe(new Date(Number(first?.id.split('-')[0])).toISOString())
  })

  test('keeps at most `rooms` rooms, forgetting the least recently active', () => {
    const history = new RoomHistory({ perRoom: 5, rooms: 2 })
    history.receive(delivery('chat/room/a', { from: 'ada', text: 'a' }))
    history.receive(delivery('chat/room/b', { from: 'ada', text: 'b' }))
    expect(history.size).toBe(2)
    history.receive(delivery('chat/room/a', { from: 'ada', text: 'a again' }))
    history.receive(delivery('chat/room/c', { from: 'ada', text: 'c' }))
    expect(history.size).toBe(2)
    expect(history.messages('b')).toEqual([])
    expect(history.messages('a').map((message) => message.text)).toEqual(['a', 'a again'])
  })

  test('keeps only room messages: never direct messages, joins, rosters, or data a page would not show', () => {
    const history = new RoomHistory({ perRoom: 50, rooms: 10 })
    history.receive(delivery('chat/users/bob/inbox', { from: 'ada', to: 'bob', text: 'secret' }, 'direct'))
    history.receive(delivery('chat/users/bob/inbox', { from: 'ada', text: 'secret, as a message' }))
    history.receive(delivery('chat/room/lobby', { user: 'ada' }, 'join'))
    history.receive(delivery('chat/room/lobby', { room: 'lobby', users: ['ada'] }, 'presence'))
    history.receive(delivery('chat/room/lobby', { from: 'ada', text: 'wrong event' }, 'chat'))
    history.receive(delivery('chat/room/lobby', JSON.stringify({ from: 'ada', text: 'a string, not JSON data' })))
    history.receive(delivery('chat/room/lobby', { from: 'ada', text: 'x'.repeat(CHAT_TEXT_MAX + 1) }))
    history.receive(delivery('chat/room/lobby', { users: null }))
    history.receive(delivery('chat/room/bad room!', { from: 'ada', text: 'bad room' }))
    history.receive(delivery('chat/room/lobby/deeper', { from: 'ada', text: 'deeper' }))
    history.receive(delivery('chat/room/lobby', { from: 'ada', text: 'kept' }, 'message'))
    expect(history.messages('lobby').map((message) => message.text)).toEqual(['kept'])
    expect(history.size).toBe(1)
  })
})

describe('NameClaims', () => {
  let claims: NameClaims | undefined
  afterEach(() => claims?.clear())
  let now = 0
  const make = (connected: Set<string>, maxNames = 100) => new NameClaims({ connected: (key) => connected.has(key), sweepMs: 60_000, graceMs: 10_000, maxNames, now: () => now })

  test('first come, first served; the holder may claim again; a name whose holder left is free', () => {
    const connected = new Set<string>()
    claims = make(connected)
    // Two pages ask for ada at the same time; the first claim wins, even before it connects (its grace).
    expect(claims.claim('ada', 'key-one')).toBeUndefined()
    expect(claims.claim('ada', 'key-two')).toBe('taken')
    connected.add('key-one').add('key-two')
    expect(claims.claim('ada', 'key-two')).toBe('taken')
    // The holder reconnects, refreshes its token or reloads (same key): still its name.
    expect(claims.claim('ada', 'key-one')).toBeUndefined()
    expect(claims.holder('ada')).toBe('key-one')
    expect(claims.online('ada')).toBe(true)
    // The holder leaves (it was seen connected, so no grace is left): the other page may take the name.
    connected.delete('key-one')
    expect(claims.online('ada')).toBe(false)
    expect(claims.claim('ada', 'key-two')).toBeUndefined()
    expect(claims.holder('ada')).toBe('key-two')
    // Names are independent.
    expect(claims.claim('bob', 'key-two')).toBeUndefined()
  })

  test('a claimant that never connects holds the name for graceMs: taken at 9,999 ms, free at 10,000', () => {
    claims = make(new Set())
    now = 1_000_000
    expect(claims.claim('ada', 'key-one')).toBeUndefined()
    expect(claims.online('ada')).toBe(false)
    now += 9_999
    expect(claims.claim('ada', 'key-two')).toBe('taken')
    now += 1
    expect(claims.claim('ada', 'key-two')).toBeUndefined()
    expect(claims.holder('ada')).toBe('key-two')
  })

  test('at most maxNames are held: one more is refused until a holder is gone', () => {
    const connected = new Set(['a', 'b'])
    claims = make(connected, 2)
    now = 2_000_000
    expect(claims.claim('amy', 'a')).toBeUndefined()
    expect(claims.claim('ben', 'b')).toBeUndefined()
    expect(claims.claim('cat', 'c')).toBe('full')
    // The holders may still claim their own names again.
    expect(claims.claim('amy', 'a')).toBeUndefined()
    connected.delete('b')
    expect(claims.claim('cat', 'c')).toBeUndefined()
    expect(claims.size).toBe(2)
  })

  test('the sweep forgets names whose holder left, and stops when none is held', () => {
    const connected = new Set(['key-one'])
    claims = make(connected)
    expect(claims.claim('ada', 'key-one')).toBeUndefined()
    expect(claims.sweeping).toBe(true)
    claims.sweep()
    expect(claims.holder('ada')).toBe('key-one')
    connected.delete('key-one')
    claims.sweep()
    expect(claims.holder('ada')).toBeUndefined()
    expect(claims.sweeping).toBe(false)
  })
})

describe('the chat over HTTP and WebSocket, in the app', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(() => server.stop())

  const KEY_A = 'aaaaaaaaaaaaaaaaaaaa'
  const KEY_B = 'bbbbbbbbbbbbbbbbbbbb'

  /** A page as public/chat.js joins: a token for the name, one socket authenticated with it, subscribed to its inbox and claim topic. */
  async function joined(name: string, key: string): Promise<{ client: WsClient; token: string }> {
    const { token } = await chatToken(server.base, name, key)
    const client = await WsClient.open(`${server.wsBase}/ws`)
    expect(await client.request({ type: 'auth', token })).toMatchObject({ type: 'authenticated', subject: name })
    expect(await client.request({ type: 'subscribe', topics: [`chat/users/${name}/inbox`, `chat/claim/${key}`] })).toMatchObject({ type: 'subscribed' })
    return { client, token }
  }

  test('a second person cannot get a token for a name that is online; it is free again once its holder leaves', async () => {
    const first = await joined('zed', KEY_A)
    const refused = await requestToken(server.base, { name: 'zed', key: KEY_B })
    expect(refused.status).toBe(409)
    expect(await refused.json()).toEqual({ error: { code: 'name_taken', message: 'zed is already in the chat; pick another name' } })
    // The holder itself may ask again (a reconnect, a refresh).
    expect((await requestToken(server.base, { name: 'zed', key: KEY_A })).status).toBe(200)
    first.client.close()
    await waitFor(async () => (await requestToken(server.base, { name: 'zed', key: KEY_B })).status === 200, 'the name to be free for the second person')
    // The first page's token, still unexpired, no longer speaks as zed: another page holds the name.
    const stale = await chatPost(server.base, '/chat/rooms/lobby/messages', { text: 'still me?' }, first.token)
    expect(stale.status).toBe(409)
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe('name_taken')
  })

  test('a token request with a bad name or key is refused', async () => {
    for (const [name, key, code] of [
      ['bad name', KEY_A, 'invalid_name'],
      ['x'.repeat(25), KEY_A, 'invalid_name'],
      ['', KEY_A, 'invalid_name'],
      ['ada', 'short', 'invalid_key'],
      ['ada', 'k'.repeat(65), 'invalid_key'],
      ['ada', '', 'invalid_key'],
    ] as const) {
      const response = await requestToken(server.base, { name, key })
      expect({ name, key, status: response.status }).toEqual({ name, key, status: 400 })
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code)
    }
    const noKey = await requestToken(server.base, { name: 'ada' })
    expect(noKey.status).toBe(400)
  })

  test("a room's recent messages are listed oldest first, without direct messages or other rooms", async () => {
    const { token } = await joined('ada', 'ada-key-0123456789')
    const { token: bob } = await joined('bob', 'bob-key-0123456789')
    expect((await chatPost(server.base, '/chat/rooms/history-a/messages', { text: 'first' }, token)).status).toBe(200)
    expect((await chatPost(server.base, '/chat/users/bob/messages', { text: 'private' }, token)).status).toBe(200)
    expect((await chatPost(server.base, '/chat/rooms/history-b/messages', { text: 'other room' }, token)).status).toBe(200)
    await server.hub.publish([{ topic: 'chat/room/history-a', event: 'presence', data: { users: null } }])
    const second = (await (await chatPost(server.base, '/chat/rooms/history-a/messages', { text: 'second' }, bob)).json()) as { id: string }
    const response = await fetch(`${server.base}/chat/rooms/history-a/messages`)
    expect(response.status).toBe(200)
    const body = (await response.json()) as { room: string; messages: { id: string; from: string; text: string; at: string }[] }
    expect(body.room).toBe('history-a')
    expect(body.messages.map(({ from, text }) => `${from}: ${text}`)).toEqual(['ada: first', 'bob: second'])
    expect(body.messages[1]?.id).toBe(second.id)
    expect(new Date(body.messages[1]?.at ?? '').toISOString()).toBe(body.messages[1]?.at as string)
    expect(JSON.stringify(body)).not.toContain('private')
    expect((await fetch(`${server.base}/chat/rooms/bad%20room/messages`)).status).toBe(400)
    expect(await (await fetch(`${server.base}/chat/rooms/empty-room/messages`)).json()).toEqual({ room: 'empty-room', messages: [] })
  })

  test('a room keeps its last 50 messages: the 51st drops the oldest', async () => {
    for (let n = 1; n <= 50; n++) await server.hub.publish([{ topic: 'chat/room/fifty', data: { from: 'ada', text: `m${n}` } }])
    const texts = async () => ((await (await fetch(`${server.base}/chat/rooms/fifty/messages`)).json()) as { messages: { text: string }[] }).messages.map((message) => message.text)
    expect((await texts()).length).toBe(50)
    expect((await texts())[0]).toBe('m1')
    await server.hub.publish([{ topic: 'chat/room/fifty', data: { from: 'ada', text: 'm51' } }])
    expect((await texts()).length).toBe(50)
    expect((await texts())[0]).toBe('m2')
    expect((await texts()).at(-1)).toBe('m51')
  })

  test('a message is 1 to 2000 characters, not only white space: 2000 passes, 2001 and blanks are refused', async () => {
    const { token } = await joined('len', 'len-key-0123456789')
    expect((await chatPost(server.base, '/chat/rooms/lengths/messages', { text: 'x'.repeat(CHAT_TEXT_MAX) }, token)).status).toBe(200)
    for (const text of ['x'.repeat(CHAT_TEXT_MAX + 1), '', ' \n ']) {
      const response = await chatPost(server.base, '/chat/rooms/lengths/messages', { text }, token)
      expect({ length: text.length, status: response.status }).toEqual({ length: text.length, status: 400 })
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_data')
    }
  })
})

import { afterEach, describe, expect, test } from 'bun:test'
import { MemoryBroker } from '../../src/broker/memory'
import { MemoryHistory } from '../../src/history/memory'
import { Hub } from '../../src/hub/hub'
import type { Subscription } from '../../src/hub/subscription'
import { parseSelector } from '../../src/hub/topics'
import { Presence, type Roster } from '../../src/demos/chat/presence'
import { startServer, type TestServer, waitFor, WsClient } from '../helpers'
import { chatPost, chatToken } from './chat-client'

function newHub(): Hub {
  const history = new MemoryHistory({ perTopic: 100, maxTopics: 100, startedAt: { ms: 0, seq: 0 } })
  return new Hub({ history, broker: new MemoryBroker(history), maxDataBytes: 0, queueLimit: 100, maxReplay: 100, maxSelectors: 10 })
}

/** Collects the `presence` rosters published for a room (to its presence topic). */
async function rostersOf(hub: Hub, room: string): Promise<{ rosters: Roster[]; subscription: Subscription; pump: Promise<void> }> {
  const subscription = await hub.subscribe([parseSelector(`chat/presence/${room}`)])
  const rosters: Roster[] = []
  const pump = (async () => {
    for (let batch = await subscription.next(); batch !== null; batch = await subscription.next()) {
      for (const { event } of batch) if (event.event === 'presence') rosters.push(JSON.parse(event.data) as Roster)
    }
  })()
  return { rosters, subscription, pump }
}


describe('Presence', () => {
  let presence: Presence | undefined
  afterEach(() => presence?.stop())

  test('joins and leaves publish the sorted roster to the room', async () => {
    const hub = newHub()
    presence = new Presence(hub, { isOnline: () => true, sweepMs: 60_000 })
    const { rosters, subscription } = await rostersOf(hub, 'lobby')
    expect(presence.join('lobby', 'zoe')).toBe(true)
    presence.join('lobby', 'adam')
    presence.join('lobby', 'zoe') // again (a reload): the roster is sent again, unchanged
    presence.leave('lobby', 'zoe')
    presence.leave('lobby', 'nobody') // not in the room: no roster
    await waitFor(() => rosters.length === 4, 'four rosters')
    subscription.end()
    expect(rosters).toEqual([
      { room: 'lobby', users: ['zoe'] },
      { room: 'lobby', users: ['adam', 'zoe'] },
      { room: 'lobby', users: ['adam', 'zoe'] },
      { room: 'lobby', users: ['adam'] },
    ])
    expect(presence.roster('elsewhere')).toEqual([])
  })

  test('does not believe a join from a user who is not connected', async () => {
    const hub = newHub()
    presence = new Presence(hub, { isOnline: (user) => user !== 'ghost', sweepMs: 60_000 })
    expect(presence.join('lobby', 'ghost')).toBe(false)
    expect(presence.join('lobby', 'amy')).toBe(true)
    expect(presence.roster('lobby')).toEqual(['amy'])
    expect(presence.sweeping).toBe(true)
  })

  test('join/leave events someone publishes to a room change nothing: only the routes move people', async () => {
    const hub = newHub()
    presence = new Presence(hub, { isOnline: () => true, sweepMs: 60_000 })
    await hub.publish([{ topic: 'chat/room/lobby', event: 'join', data: { user: 'mallory' } }])
    await hub.publish([{ topic: 'chat/room/lobby', event: 'leave', data: { user: 'amy' } }])
    presence.join('lobby', 'amy')
    await hub.publish([{ topic: 'chat/room/lobby', event: 'leave', data: { user: 'amy' } }])
    expect(presence.roster('lobby')).toEqual(['amy'])
  })

  test('the sweep drops users whose connection went away, and stops when the rooms are empty', async () => {
    const hub = newHub()
    const connected = new Set(['amy', 'ben'])
    presence = new Presence(hub, { isOnline: (user) => connected.has(user), sweepMs: 20 })
    const { rosters, subscription } = await rostersOf(hub, 'lobby')
    presence.join('lobby', 'amy')
    presence.join('lobby', 'ben')
    await waitFor(() => presence?.roster('lobby').length === 2, 'both in the roster')
    expect(presence.sweeping).toBe(true)
    connected.delete('ben')
    await waitFor(() => rosters.at(-1)?.users.join() === 'amy', 'ben swept out')
    connected.delete('amy')
    await waitFor(() => presence?.roster('lobby').length === 0, 'amy swept out')
    // No timer is left running once nobody is in any room.
    expect(presence.sweeping).toBe(false)
    subscription.end()
  })
})

describe('presence over WebSocket, in the app', () => {
  let server: TestServer
  afterEach(() => server?.stop())

  /** A chat client as public/chat.js behaves: a token, one authenticated socket on its inbox, claim topic and room, then a join. */
  async function chatter(name: string, room: string): Promise<{ client: WsClient; token: string }> {
    const key = `${name}-key-0123456789abcdef`
    const { token } = await chatToken(server.base, name, key)
    const client = await WsClient.open(`${server.wsBase}/ws`)
    await client.request({ type: 'auth', token })
    await client.request({ type: 'subscribe', topics: [`chat/users/${name}/inbox`, `chat/claim/${key}`, `chat/room/${room}`, `chat/presence/${room}`] })
    expect((await chatPost(server.base, `/chat/rooms/${room}/join`, {}, token)).status).toBe(200)
    return { client, token }
  }

  const lastRoster = (client: WsClient) => (client.messages.filter((message) => message.event === 'presence').at(-1)?.data as Roster | undefined)?.users

  test('a closed socket leaves the roster without a goodbye; a direct message reaches one user', async () => {
    server = await startServer()
    const amy = await chatter('amy', 'lobby')
    const ben = await chatter('ben', 'lobby')
    await waitFor(() => lastRoster(amy.client)?.join() === 'amy,ben', 'amy to see both')

    expect((await chatPost(server.base, '/chat/users/amy/messages', { text: 'hi amy' }, ben.token)).status).toBe(200)
    const direct = await amy.client.waitFor((message) => message.event === 'direct', 'the direct message')
    expect(direct).toMatchObject({ topic: 'chat/users/amy/inbox', data: { from: 'ben', to: 'amy', text: 'hi amy' } })
    expect(ben.client.messages.some((message) => message.event === 'direct')).toBe(false)

    ben.client.close()
    await waitFor(() => lastRoster(amy.client)?.join() === 'amy', 'ben to drop out of the roster', 5000)
    amy.client.close()
  })

  test('a join without a connected page is refused (409 not_subscribed): a token alone does not make anyone online', async () => {
    server = await startServer()
    const { token } = await chatToken(server.base, 'cat', 'cat-key-0123456789abcdef')
    const refused = await chatPost(server.base, '/chat/rooms/lobby/join', {}, token)
    expect(refused.status).toBe(409)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('not_subscribed')
  })
})

describe('the roster topic is the server\'s own', () => {
  let server: TestServer
  afterEach(() => server?.stop())

  test('a forged roster is refused over HTTP and WebSocket (403 forbidden_topic), and so is a join event on a room', async () => {
    server = await startServer()
    const forged = { room: 'lobby', users: ['mallory', 'admin'] }
    const http = await fetch(`${server.base}/topics/chat/presence/lobby`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: forged, event: 'presence' }) })
    expect(http.status).toBe(403)
    expect(((await http.json()) as { error: { code: string } }).error.code).toBe('forbidden_topic')
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    expect(await ws.request({ type: 'publish', topic: 'chat/presence/lobby', event: 'presence', data: forged })).toMatchObject({ type: 'error', code: 'forbidden_topic' })
    expect(await ws.request({ type: 'publish', topic: 'chat/room/lobby', event: 'join', data: { user: 'mallory' } })).toMatchObject({ type: 'error', code: 'forbidden_topic' })
    ws.close()
    expect(server.hub.stats().published).toBe(0)
  })
})

import { afterEach, describe, expect, test } from 'bun:test'
import { MemoryBroker } from '../../src/broker/memory'
import { MemoryHistory } from '../../src/history/memory'
import { Hub } from '../../src/hub/hub'
import type { Subscription } from '../../src/hub/subscription'
import { parseSelector } from '../../src/hub/topics'
import { Presence, type Roster } from '../../src/demos/chat/presence'
import { startServer, type TestServer, waitFor, WsClient } from '../helpers'

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

const join = (hub: Hub, room: string, user: unknown) => hub.publish([{ topic: `chat/room/${room}`, event: 'join', data: { user } }])
const leave = (hub: Hub, room: string, user: string) => hub.publish([{ topic: `chat/room/${room}`, event: 'leave', data: { user } }])

describe('Presence', () => {
  let presence: Presence | undefined
  afterEach(() => presence?.stop())

  test('joins and leaves publish the sorted roster to the room', async () => {
    const hub = newHub()
    presence = new Presence(hub, { isOnline: () => true, sweepMs: 60_000 })
    presence.start()
    const { rosters, subscription } = await rostersOf(hub, 'lobby')
    await join(hub, 'lobby', 'zoe')
    await join(hub, 'lobby', 'adam')
    await join(hub, 'lobby', 'zoe') // again (a reload): the roster is sent again, unchanged
    await leave(hub, 'lobby', 'zoe')
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

  test('ignores bad names, users who are not connected, and other topics', async () => {
    const hub = newHub()
    presence = new Presence(hub, { isOnline: (user) => user !== 'ghost', sweepMs: 60_000 })
    presence.start()
    await join(hub, 'lobby', '<b>x</b>')
    await join(hub, 'lobby', 42)
    await join(hub, 'lobby', 'ghost')
    await hub.publish([{ topic: 'chat/room/lobby', event: 'join', data: 'not json' }])
    await hub.publish([{ topic: 'elsewhere/lobby', event: 'join', data: { user: 'amy' } }])
    await join(hub, 'lobby', 'amy')
    await waitFor(() => presence?.roster('lobby').length === 1, 'amy in the roster')
    expect(presence.roster('lobby')).toEqual(['amy'])
  })

  test('the sweep drops users whose connection went away, and stops when the rooms are empty', async () => {
    const hub = newHub()
    const connected = new Set(['amy', 'ben'])
    presence = new Presence(hub, { isOnline: (user) => connected.has(user), sweepMs: 20 })
    presence.start()
    const { rosters, subscription } = await rostersOf(hub, 'lobby')
    await join(hub, 'lobby', 'amy')
    await join(hub, 'lobby', 'ben')
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

  /** A chat client as public/chat.js behaves: subscribe to the room and to its own topic, then announce itself. */
  async function chatter(name: string, room: string): Promise<WsClient> {
    const client = await WsClient.open(`${server.wsBase}/ws`)
    await client.request({ type: 'subscribe', topics: [`chat/room/${room}`, `chat/presence/${room}`, `chat/user/${name}`] })
    client.send({ type: 'publish', topic: `chat/room/${room}`, event: 'join', data: { user: name } })
    return client
  }

  const lastRoster = (client: WsClient) => (client.messages.filter((message) => message.event === 'presence').at(-1)?.data as Roster | undefined)?.users

  test('a closed socket leaves the roster without a goodbye; a direct message reaches one user', async () => {
    server = await startServer()
    const amy = await chatter('amy', 'lobby')
    const ben = await chatter('ben', 'lobby')
    await waitFor(() => lastRoster(amy)?.join() === 'amy,ben', 'amy to see both')

    await ben.request({ type: 'publish', topic: 'chat/user/amy', event: 'direct', data: { from: 'ben', to: 'amy', text: 'hi amy' } })
    const direct = await amy.waitFor((message) => message.event === 'direct', 'the direct message')
    expect(direct).toMatchObject({ topic: 'chat/user/amy', data: { from: 'ben', text: 'hi amy' } })
    expect(ben.messages.some((message) => message.event === 'direct')).toBe(false)

    ben.close()
    await waitFor(() => lastRoster(amy)?.join() === 'amy', 'ben to drop out of the roster', 5000)
    amy.close()
  })
})

describe('the roster topic is the server\'s own', () => {
  let server: TestServer
  afterEach(() => server?.stop())

  test('a forged roster is refused over HTTP and WebSocket (403 forbidden_topic); a roster on the room topic is just an event', async () => {
    server = await startServer()
    const forged = { room: 'lobby', users: ['mallory', 'admin'] }
    const http = await fetch(`${server.base}/topics/chat/presence/lobby`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: forged, event: 'presence' }) })
    expect(http.status).toBe(403)
    expect(((await http.json()) as { error: { code: string } }).error.code).toBe('forbidden_topic')
    const ws = await WsClient.open(`${server.wsBase}/ws`)
    expect(await ws.request({ type: 'publish', topic: 'chat/presence/lobby', event: 'presence', data: forged })).toMatchObject({ type: 'error', code: 'forbidden_topic' })
    ws.close()
    expect(server.hub.stats().published).toBe(0)
  })
})

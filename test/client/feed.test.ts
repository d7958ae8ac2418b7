/** A subscription's queue and position (src/client/feed.ts), without any transport. */
import { expect, test } from 'bun:test'
import { HeraldError } from '../../src/client/errors'
import { Feed } from '../../src/client/feed'
import { PROBE_ID } from '../../src/client/ids'
import type { HeraldEvent } from '../../src/client/types'

const event = (id: string, text = 'x'): HeraldEvent => ({ type: 'event', topic: 't', id, event: 'message', data: text, text })

async function takeAll(feed: Feed, count: number): Promise<unknown[]> {
  const items: unknown[] = []
  for (let i = 0; i < count; i++) items.push(await feed.take())
  return items
}

test('an event not newer than the position is dropped; the position follows what was queued', async () => {
  const feed = new Feed(['t'], { lastEventId: '5-0' }, 1 << 20)
  for (const id of ['4-0', '5-0', '5-1', '5-1', '6-0', '5-9', '10-0']) feed.event(event(id))
  expect(feed.position).toBe('10-0')
  expect(((await takeAll(feed, 3)) as HeraldEvent[]).map((item) => item.id)).toEqual(['5-1', '6-0', '10-0'])
})

test('without a position it subscribes after PROBE_ID; the answering reset sets the position and is not yielded', async () => {
  const feed = new Feed(['t'], {}, 1 << 20)
  expect(feed.resumeFrom()).toBe(PROBE_ID)
  feed.reset(PROBE_ID, '7-0')
  expect(feed.position).toBe('7-0')
  expect(feed.resumeFrom()).toBe('7-0')
  // A real reset later (a position too old) is the app's to handle.
  feed.reset('7-0', '9-0')
  feed.event(event('9-1'))
  expect(await takeAll(feed, 2)).toEqual([{ type: 'reset', lastEventId: '7-0', head: '9-0' }, event('9-1')])
  // A server that refuses the probe: subscribe from now.
  const refused = new Feed(['t'], {}, 1 << 20)
  refused.noProbe = true
  expect(refused.resumeFrom()).toBeUndefined()
})

test('fail() hands out what is queued, then throws; end() stops at once', async () => {
  const failing = new Feed(['t'], {}, 1 << 20)
  failing.event(event('1-0'))
  failing.fail(new HeraldError('invalid_selector', 'no', 400))
  failing.event(event('2-0'))
  expect(await failing.take()).toEqual(event('1-0'))
  expect(failing.take()).rejects.toThrow('no')
  const ending = new Feed(['t'], {}, 1 << 20)
  ending.event(event('1-0'))
  ending.end()
  expect(await ending.take()).toBeUndefined()
  expect(ending.ended.signal.aborted).toBe(true)
})

test('full at bufferSize (each event at least 64 characters); drained once the loop has taken everything', async () => {
  const feed = new Feed(['t'], {}, 64 * 3)
  feed.event(event('1-0'))
  feed.event(event('2-0'))
  expect(feed.full).toBe(false)
  feed.event(event('3-0'))
  expect(feed.full).toBe(true)
  let drained = false
  feed.drained().then(() => (drained = true))
  await takeAll(feed, 2)
  await Bun.sleep(0)
  expect([feed.full, drained]).toEqual([false, false])
  await feed.take()
  await Bun.sleep(0)
  expect(drained).toBe(true)
  const big = new Feed(['t'], {}, 1000)
  big.event(event('1-0', 'y'.repeat(999)))
  expect(big.full).toBe(false)
  big.event(event('2-0', 'y'))
  expect(big.full).toBe(true)
})

test('order holds across the queue compacting itself (thousands of items, taken and added in turns)', async () => {
  const feed = new Feed(['t'], {}, 1 << 30)
  let next = 0
  let taken = 0
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 3000; i++) feed.event(event(`${++next}-0`))
    for (let i = 0; i < 2500; i++) expect(((await feed.take()) as HeraldEvent).id).toBe(`${++taken}-0`)
  }
  while (taken < next) expect(((await feed.take()) as HeraldEvent).id).toBe(`${++taken}-0`)
})

test('an onOpen that throws ends the subscription with its error', async () => {
  const feed = new Feed(['t'], {
    onOpen: () => {
      throw new Error('app bug')
    },
  }, 1 << 20)
  feed.opened()
  expect(feed.take()).rejects.toThrow('app bug')
})

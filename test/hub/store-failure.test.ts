import { expect, test } from 'bun:test'
import { MemoryBroker } from '../../src/broker/memory'
import { MemoryHistory } from '../../src/history/memory'
import type { HubEvent } from '../../src/hub/event'
import { HubError } from '../../src/hub/errors'
import { Hub } from '../../src/hub/hub'
import { parseSelector } from '../../src/hub/topics'

/** A store whose writes fail while `broken` is set (a full disk, a vanished volume). */
class FlakyHistory extends MemoryHistory {
  broken = false
  override append(events: readonly HubEvent[]): void {
    if (this.broken) throw new HubError('store_unavailable', 'disk full')
    super.append(events)
  }
}

test('when the store cannot save a batch, the publish fails and no subscriber sees it', async () => {
  const history = new FlakyHistory({ perTopic: 10, maxTopics: 10, startedAt: { ms: 0, seq: 0 } })
  const hub = new Hub({ history, broker: new MemoryBroker(history), maxDataBytes: 0, queueLimit: 10, maxReplay: 100, maxSelectors: 10 })
  const subscription = await hub.subscribe([parseSelector('t')])
  history.broken = true
  const failed = hub.publish([{ topic: 't', data: 'lost' }])
  await expect(failed).rejects.toMatchObject({ code: 'store_unavailable' })
  history.broken = false
  const [stored] = await hub.publish([{ topic: 't', data: 'kept' }])
  const batch = await subscription.next()
  expect(batch?.map((delivery) => delivery.event.data)).toEqual(['kept'])
  expect(stored?.data).toBe('kept')
  await hub.close()
})

import { afterEach } from 'bun:test'
import { RedisBroker } from '../../src/broker/redis'
import { RedisHistory } from '../../src/history/redis'
import { ZERO_ID } from '../../src/hub/id'
import { RedisLink } from '../../src/redis/link'
import { connectedLink, deleteKeys, REDIS_URL, uniquePrefix } from '../redis/redis'
import { brokerContract } from './contract'
import { FaultyCommands } from './faulty-commands'

const prefixes: string[] = []
afterEach(async () => {
  for (const prefix of prefixes.splice(0)) await deleteKeys(prefix)
})

const retention = { perTopic: 1000, maxTopics: 100, startedAt: ZERO_ID, logSize: 100_000 }

brokerContract('RedisBroker', async (setup) => {
  const prefix = uniquePrefix('broker')
  prefixes.push(prefix)
  if (setup.seed.length > 0) {
    const link = await connectedLink()
    const seeder = new RedisHistory(link, { prefix, ...retention })
    await seeder.start()
    await seeder.append(setup.seed)
    link.close()
  }
  const commands = new RedisLink(REDIS_URL, { timeoutMs: 2000 })
  const reader = new RedisLink(REDIS_URL, { timeoutMs: 2000 })
  const history = new RedisHistory(new FaultyCommands(commands, setup.faults), { prefix, ...retention })
  const broker = new RedisBroker(history, { commands, reader }, { now: setup.now, maxIdSkewMs: setup.maxIdSkewMs, timeoutMs: 2000 })
  await broker.start()
  return {
    broker,
    history,
    dispose: async () => {
      await broker.close()
      history.close()
    },
  }
})

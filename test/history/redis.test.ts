import { afterEach } from 'bun:test'
import { RedisHistory } from '../../src/history/redis'
import type { RedisLink } from '../../src/redis/link'
import { connectedLink, deleteKeys, uniquePrefix } from '../redis/redis'
import { historyContract } from './contract'

const opened: { history: RedisHistory; link: RedisLink; prefix: string }[] = []

afterEach(async () => {
  for (const { history, link, prefix } of opened.splice(0)) {
    history.close()
    link.close()
    await deleteKeys(prefix)
  }
})

historyContract('RedisHistory', async (options) => {
  const link = await connectedLink()
  const prefix = uniquePrefix('history')
  const history = new RedisHistory(link, { prefix, logSize: 100_000, ...options })
  opened.push({ history, link, prefix })
  await history.start()
  return history
})

import { afterEach } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryBroker } from '../../src/broker/memory'
import { MemoryHistory } from '../../src/history/memory'
import { SqliteHistory } from '../../src/history/sqlite'
import type { HistoryStore } from '../../src/hub/history'
import { ZERO_ID } from '../../src/hub/id'
import { brokerContract, type BrokerSetup } from './contract'
import { FaultyStore } from './faulty-store'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const retention = { perTopic: 1000, maxTopics: 100, startedAt: ZERO_ID }

/** The memory broker over `store` (seeded), with the contract's faults injected in front of the store. */
function memoryBroker(store: HistoryStore, setup: BrokerSetup) {
  if (setup.seed.length > 0) store.append(setup.seed)
  const history = new FaultyStore(store, setup.faults)
  return { broker: new MemoryBroker(history, { now: setup.now, maxIdSkewMs: setup.maxIdSkewMs }), history, dispose: async () => void (await history.close()) }
}

brokerContract('MemoryBroker on the memory store', (setup) => memoryBroker(new MemoryHistory(retention), setup))

brokerContract('MemoryBroker on the sqlite store', (setup) => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-broker-'))
  dirs.push(dir)
  return memoryBroker(new SqliteHistory({ path: join(dir, 'history.db'), ...retention }), setup)
})

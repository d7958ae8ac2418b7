import { MemoryHistory } from '../../src/history/memory'
import { historyContract } from './contract'

historyContract('MemoryHistory', (options) => new MemoryHistory(options))

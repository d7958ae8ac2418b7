/**
 * Herald itself, exactly as main.ts builds it, on an ephemeral port on 127.0.0.1. BENCH_HERALD_OPTIONS
 * (JSON, optional) overrides options, e.g. `{"wsMessageRate":0}`.
 */
import { createServer } from '../../src/server'
import type { HeraldOptions } from '../../src/config'
import { runControl } from './control'

const overrides = JSON.parse(process.env.BENCH_HERALD_OPTIONS ?? '{}') as Partial<HeraldOptions>
const { app } = createServer({ ...overrides, port: 0, host: '127.0.0.1' })
app.listen({ port: 0, hostname: '127.0.0.1' })
runControl(app.server!.port!, () => app.stop())

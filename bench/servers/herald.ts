/** Herald itself, exactly as main.ts builds it, on an ephemeral port on 127.0.0.1. */
import { createApp } from '../../src/app'
import { runControl } from './control'

const { app } = createApp({ port: 0, host: '127.0.0.1' })
app.listen({ port: 0, hostname: '127.0.0.1' })
runControl(app.server!.port!, () => app.stop())

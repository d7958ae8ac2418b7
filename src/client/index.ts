/**
 * Herald's client for browsers and Bun: `import { connect } from 'herald/client'` (or, in a page,
 * from `/client/herald.js`, which the server serves). One module, no dependencies.
 *
 * ```js
 * const herald = connect()
 * for await (const item of herald.subscribe(['chat/room-1', 'news/**'])) {
 *   if (item.type === 'reset') reload()
 *   else show(item.topic, item.id, item.data)
 * }
 * await herald.publish('chat/room-1', { text: 'hi' }, { event: 'chat' })
 * ```
 */
export { connect, type Herald } from './connect'
export { HeraldError } from './errors'
export type {
  BackoffOptions,
  ConnectOptions,
  HeraldErrorCode,
  HeraldEvent,
  HeraldItem,
  HeraldReset,
  Published,
  PublishOptions,
  RetryInfo,
  SubscribeOptions,
  TokenOption,
  Transport,
} from './types'

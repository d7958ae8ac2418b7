/**
 * Herald as a library: `import { herald } from 'herald'`.
 *
 * ```ts
 * new Elysia()
 *   .use(herald({ prefix: '/rt' }))
 *   .get('/orders/:id/live', async function* ({ herald, params, request }) {
 *     for await (const event of herald.subscribe(`orders/${params.id}`, { request })) yield event
 *   })
 *   .post('/orders/:id/ship', ({ herald, params }) => herald.publish(`orders/${params.id}`, { status: 'shipped' }))
 * ```
 */
export { herald } from './plugin'
export type { HeraldApi, HeraldStats, Published, PublishOptions, SubscribeOptions } from './api/herald-api'
export { HeraldSubscription } from './api/subscription-iterator'
export { HeraldEvent, type HeraldItem, HeraldReset, type SseFields, SseFrame, type SseItem, sse } from './api/sse-items'
export type { HeraldPluginOptions, HubSettings } from './options'
export { heraldWebSocket } from './websocket-settings'
export { HubError, type HubErrorCode } from './hub/errors'
export type { PublishInput } from './hub/event'
export type { Logger } from './log'
export { escapeSegment } from './hub/escape'
export { signToken, type TokenRequest } from './auth/sign'
export type { AuthPrincipal, Authenticator, FoundToken, TokenCarrier } from './auth/types'
export type { RemoteAddress } from './api/edge-auth'

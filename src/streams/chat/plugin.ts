import { Elysia } from 'elysia'
import type { Hub } from '../../hub/hub'
import { Presence } from './presence'
import { userTopic } from './topics'

export interface ChatOptions {
  /** Milliseconds between checks for users who left without saying so; default 1000. */
  presenceSweepMs?: number
}

/**
 * The chat's server side: only presence. Messages and direct messages are plain publishes over
 * Herald's WebSocket protocol (see public/chat.js). A user counts as online while some WebSocket
 * on this server subscribes to their `chat/user/<name>` topic; Bun tracks that per topic, and it
 * drops the subscription when the socket closes.
 */
export function chatPresence(hub: Hub, options: ChatOptions = {}) {
  let presence: Presence | undefined
  return new Elysia({ name: 'herald-chat' })
    .onStart(({ server }) => {
      if (!server) return
      presence?.stop()
      presence = new Presence(hub, { isOnline: (user) => server.subscriberCount(userTopic(user)) > 0, sweepMs: options.presenceSweepMs ?? 1000 })
      presence.start()
    })
    .onStop(() => {
      presence?.stop()
      presence = undefined
    })
}


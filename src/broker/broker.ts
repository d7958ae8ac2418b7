import type { HubEvent } from '../hub/event'

/**
 * Carries published events to every node's local delivery. There is exactly one delivery path:
 * the hub delivers only what the broker hands back, so an event is never delivered twice.
 */
export interface Broker {
  /** Sends a batch (in id order); resolves once the broker has accepted it. */
  publish(events: readonly HubEvent[]): void | Promise<void>
  /** Sets the local delivery callback (one per broker). */
  onDeliver(deliver: (events: readonly HubEvent[]) => void): void
  close(): void | Promise<void>
}

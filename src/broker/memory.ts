import type { HubEvent } from '../hub/event'
import type { Broker } from './broker'

/** One process: publishing is delivering, synchronously, before `publish` returns. */
export class MemoryBroker implements Broker {
  private deliver: (events: readonly HubEvent[]) => void = () => {}

  publish(events: readonly HubEvent[]): void {
    this.deliver(events)
  }

  onDeliver(deliver: (events: readonly HubEvent[]) => void): void {
    this.deliver = deliver
  }

  close(): void {
    this.deliver = () => {}
  }
}

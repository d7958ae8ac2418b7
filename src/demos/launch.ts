import { sleep } from './sleep'
import { type StreamChunk, type StreamContext, sseEvent, stream } from './stream'

/** Milliseconds between the launch stream's events. */
export const LAUNCH_STEP_MS = 150

const COUNTDOWN = ['T-minus 3', 'T-minus 2', 'T-minus 1'] as const

/** The id of the `liftoff` event, the last one: a client that has it gets 204 (see `launchIsOver`). */
export const LIFTOFF_ID = COUNTDOWN.length + 1

/**
 * `T-minus 3` (id 1), `T-minus 2` (id 2), `T-minus 1` (id 3), `stepMs` apart, then a named
 * `liftoff` event `Liftoff!` (id 4), then the stream ends. A client resuming after id n gets the
 * steps after n, the first at once.
 */
export function launch(context: StreamContext, stepMs: number = LAUNCH_STEP_MS, lastEventId = 0): AsyncGenerator<StreamChunk> {
  return stream(context, steps(context, stepMs, lastEventId))
}

/**
 * True when the client already saw liftoff. The route answers 204 No Content then, which is what
 * tells EventSource to stop reconnecting; otherwise the countdown would start again every `retry`.
 */
export function launchIsOver(lastEventId: number | undefined): boolean {
  return lastEventId !== undefined && lastEventId >= LIFTOFF_ID
}

async function* steps(context: StreamContext, stepMs: number, after: number): AsyncGenerator<StreamChunk> {
  for (let id = after + 1; id <= LIFTOFF_ID; id++) {
    if (id > after + 1) await sleep(stepMs, context.signal, context.gauge)
    if (context.signal.aborted) return
    const step = COUNTDOWN[id - 1]
    yield step === undefined ? sseEvent({ id, event: 'liftoff', data: 'Liftoff!' }) : sseEvent({ id, data: step })
  }
}

import type { HubEvent, ValidatedInput } from '../hub/event'
import { type EventId, formatEventId, isEventId } from '../hub/id'
import { APPEND_FIELDS } from './scripts'

/** A stream entry as Redis returns it: the id and its fields as a flat list of name, value. */
export type StreamEntry = [id: string, fields: string[]]

const ID = /^(0|[1-9]\d{0,15})-(0|[1-9]\d{0,15})$/

/**
 * Parses an id Redis gave back. Throws when it is not one Herald could have written (the keys were
 * edited by hand, or belong to something else): better a failed read than an id no client parses.
 */
export function entryId(text: unknown): EventId {
  const match = typeof text === 'string' ? ID.exec(text) : null
  const id = match ? { ms: Number(match[1]), seq: Number(match[2]) } : undefined
  if (!id || !isEventId(id)) throw new Error(`Redis holds an entry id Herald did not write: ${JSON.stringify(text)}`)
  return id
}

/** One field of an entry, or undefined. */
export function fieldOf(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}

/** A HubEvent from its id, topic and the fields APPEND wrote (`d`, `j`, `tm`, `e`, `p`), in the shape the brokers build. */
export function eventOf(id: string, topic: string, fields: readonly string[]): HubEvent {
  let data = ''
  let json = false
  let time = 0
  let name: string | undefined
  let isPrivate = false
  for (let i = 0; i < fields.length; i += 2) {
    const value = fields[i + 1] as string
    switch (fields[i]) {
      case 'd':
        data = value
        break
      case 'j':
        json = value === '1'
        break
      case 'tm':
        time = Number(value)
        break
      case 'e':
        name = value
        break
      case 'p':
        isPrivate = value === '1'
        break
    }
  }
  return makeEvent(entryId(id), topic, name, data, json, time, isPrivate)
}

/** A HubEvent with exactly the fields a published one has: `event` and `private` only when set. */
export function makeEvent(position: EventId, topic: string, name: string | undefined, data: string, json: boolean, time: number, isPrivate: boolean): HubEvent {
  const event: HubEvent = name === undefined ? { id: formatEventId(position), position, topic, data, json, time } : { id: formatEventId(position), position, topic, event: name, data, json, time }
  return isPrivate ? { ...event, private: true } : event
}

/** What APPEND needs per event. */
export interface AppendItem {
  id?: EventId | undefined
  topic: string
  event?: string | undefined
  data: string
  json: boolean
  private?: boolean | undefined
  time: number
}

/** APPEND's per-event arguments (APPEND_FIELDS each), in order. */
export function appendArguments(items: readonly AppendItem[]): string[] {
  const args: string[] = []
  for (const item of items) {
    args.push(item.id ? formatEventId(item.id) : '', item.topic, item.event ?? '', item.data, item.json ? '1' : '0', item.private ? '1' : '', String(item.time))
  }
  if (args.length !== items.length * APPEND_FIELDS) throw new Error('APPEND arguments out of shape')
  return args
}

/** A validated publish as an APPEND item, published at `time`. */
export function publishItem(input: ValidatedInput, time: number): AppendItem {
  return { id: input.id, topic: input.topic, event: input.event, data: input.data, json: input.json, private: input.private, time }
}

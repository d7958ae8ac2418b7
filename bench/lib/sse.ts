/**
 * An SSE subscriber that counts events without decoding the stream: every event Herald or the
 * baseline sends starts with an `id:` line, so each event is one `\nid: ` in the byte stream.
 * (The chunked transfer-encoding lines in between are `\r\n<hex>\r\n`: they never hold the marker,
 * and the servers write whole events per chunk, so they never split one either; the `\n` before
 * the first `id:` of a chunk is the chunk line's own.) A marker split across two TCP reads is
 * found by looking at the last 4 bytes of the stream so far joined with the first 4 of the new read.
 */
import { Subscriber } from './subscriber'

const MARKER = Buffer.from('\nid: ')
const KEEP = MARKER.length - 1

function countMarkers(buf: Buffer, from: number): number {
  let count = 0
  for (let at = buf.indexOf(MARKER, from); at !== -1; at = buf.indexOf(MARKER, at + MARKER.length)) count++
  return count
}

export class SseSubscriber extends Subscriber {
  /** The last (up to) KEEP bytes of the body so far. */
  private tail = Buffer.alloc(0)

  request(host: string): string {
    return `GET /events?topic=bench HTTP/1.1\r\nHost: ${host}\r\nAccept: text/event-stream\r\n${this.authorization()}\r\n`
  }

  protected acceptHead(head: string): boolean {
    if (!head.startsWith('HTTP/1.1 200')) {
      this.fail(`SSE answered ${head.split('\r\n')[0]}`)
      return false
    }
    this.ready()
    return true
  }

  protected onBody(buf: Buffer, from: number, now: number): void {
    let count = countMarkers(buf, from)
    const body = buf.length - from
    if (this.tail.length > 0) {
      // Neither side alone can hold a 5-byte marker, so any marker here spans the two reads.
      count += countMarkers(Buffer.concat([this.tail, buf.subarray(from, from + KEEP)]), 0)
    }
    this.tail = body >= KEEP ? Buffer.from(buf.subarray(buf.length - KEEP)) : Buffer.concat([this.tail, buf.subarray(from)]).subarray(-KEEP)
    if (this.sampled) this.sample(buf, from, buf.length, now, false)
    if (count > 0) this.delivered(count, now)
  }
}

/**
 * A WebSocket subscriber on a raw socket: the RFC 6455 handshake by hand, then a frame parser.
 * Server → client frames are unmasked, so a frame is a 2-byte header, an optional 16- or 64-bit
 * length and the payload. The first text message must be the `subscribed` ack; every later one
 * is an event (checked by the start of its `{"type":"event"`).
 */
import { randomBytes } from 'node:crypto'
import { Subscriber } from './subscriber'

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const TYPE_AT = '{"type":"'.length
const SUBSCRIBED_PREFIX = Buffer.from('{"type":"subscribed"')
const OP_TEXT = 0x1
const OP_CLOSE = 0x8
const OP_PING = 0x9

function startsWith(buf: Buffer, start: number, end: number, prefix: Buffer): boolean {
  return end - start >= prefix.length && buf.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0
}

/**
 * `{"type":"event"…`, by two bytes rather than a native compare: this runs once per delivery and
 * the client must stay cheaper than the server. (`e` + `v` after `"type":"`: no other type starts so.)
 */
function isEvent(buf: Buffer, start: number, end: number): boolean {
  return end - start > TYPE_AT + 1 && buf[start + TYPE_AT] === 0x65 && buf[start + TYPE_AT + 1] === 0x76
}

export class WsSubscriber extends Subscriber {
  private readonly key = randomBytes(16).toString('base64')
  /** Bytes of a frame cut by the end of the last read; frames here are ~200 bytes, so re-joining is cheap. */
  private carry: Buffer | undefined
  private subscribed = false

  request(host: string): string {
    return (
      `GET /ws?topic=bench HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n${this.authorization()}\r\n`
    )
  }

  protected acceptHead(head: string): boolean {
    const accept = new Bun.CryptoHasher('sha1').update(this.key + WS_GUID).digest('base64')
    if (!head.startsWith('HTTP/1.1 101') || !head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) {
      this.fail(`WebSocket handshake answered ${head.split('\r\n')[0]}`)
      return false
    }
    return true
  }

  protected onBody(chunk: Buffer, from: number, now: number): void {
    const buf = this.carry ? Buffer.concat([this.carry, chunk.subarray(from)]) : chunk
    let at = this.carry ? 0 : from
    this.carry = undefined
    let events = 0
    while (buf.length - at >= 2) {
      const first = buf[at] as number
      const second = buf[at + 1] as number
      if (second & 0x80) return this.fail('the server sent a masked frame')
      let length = second & 0x7f
      let header = 2
      if (length === 126) {
        if (buf.length - at < 4) break
        length = ((buf[at + 2] as number) << 8) | (buf[at + 3] as number)
        header = 4
      } else if (length === 127) {
        if (buf.length - at < 10) break
        length = buf.readUInt32BE(at + 2) * 2 ** 32 + buf.readUInt32BE(at + 6)
        header = 10
      }
      const start = at + header
      const end = start + length
      if (end > buf.length) break
      const opcode = first & 0x0f
      if (opcode === OP_TEXT) {
        if (isEvent(buf, start, end)) {
          events++
          if (this.sampled) this.sample(buf, start, end, now, true)
        } else if (!this.subscribed && startsWith(buf, start, end, SUBSCRIBED_PREFIX)) {
          this.subscribed = true
          this.ready()
        } else {
          this.tally.fail(`unexpected message ${buf.toString('utf8', start, Math.min(end, start + 200))}`)
        }
      } else if (opcode === OP_PING) {
        this.pong(buf.subarray(start, end))
      } else if (opcode === OP_CLOSE) {
        return this.fail(`closed by the server (code ${length >= 2 ? buf.readUInt16BE(start) : 'none'})`)
      }
      at = end
    }
    if (at < buf.length) this.carry = Buffer.from(buf.subarray(at))
    if (events > 0) this.delivered(events, now)
  }

  /** Client frames must be masked; an all-zero mask is valid and leaves the payload as is. */
  private pong(payload: Buffer): void {
    const frame = Buffer.alloc(6 + payload.length)
    frame[0] = 0x80 | 0xa
    frame[1] = 0x80 | payload.length
    payload.copy(frame, 6)
    this.socket?.write(frame)
  }
}

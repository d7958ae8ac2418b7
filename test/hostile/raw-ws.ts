/**
 * A WebSocket client written byte by byte over a raw TCP socket (RFC 6455), so tests can send what a
 * browser never would: unmasked frames, reserved opcodes and bits, bad lengths, broken UTF-8,
 * fragments in any order. Reads the server's frames back (text messages and the close code).
 */
import { RawClient } from '../raw'

export interface FrameOptions {
  fin?: boolean
  /** 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong; others are reserved. */
  opcode: number
  payload?: Uint8Array | string
  /** Clients must mask; false sends a protocol violation. */
  mask?: boolean
  /** RSV1-3 bits (0-7); non-zero without an extension is a protocol violation. */
  rsv?: number
  /** Claim this payload length in the header instead of the real one. */
  claimedLength?: number
}

/** Encodes one client frame. */
export function frame(options: FrameOptions): Uint8Array {
  const payload = typeof options.payload === 'string' ? Buffer.from(options.payload) : (options.payload ?? new Uint8Array())
  const length = options.claimedLength ?? payload.byteLength
  const mask = options.mask ?? true
  const header: number[] = [((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | (options.opcode & 0x0f)]
  const maskBit = mask ? 0x80 : 0
  if (length < 126) header.push(maskBit | length)
  else if (length < 65_536) header.push(maskBit | 126, length >> 8, length & 0xff)
  else {
    header.push(maskBit | 127)
    const big = BigInt(length)
    for (let shift = 56n; shift >= 0n; shift -= 8n) header.push(Number((big >> shift) & 0xffn))
  }
  const key = mask ? [0x12, 0x34, 0x56, 0x78] : []
  const body = new Uint8Array(payload.byteLength)
  for (let i = 0; i < payload.byteLength; i++) body[i] = (payload[i] as number) ^ (mask ? (key[i % 4] as number) : 0)
  return new Uint8Array([...header, ...key, ...body])
}

/** What the server sent back, decoded. */
export interface ServerFrames {
  texts: string[]
  /** The close frame's code, if the server sent one. */
  closeCode?: number
  pongs: number
}

export class RawWebSocket {
  private constructor(readonly client: RawClient) {}

  /** Opens a connection and completes the upgrade handshake. */
  static async open(base: string, path = '/ws'): Promise<RawWebSocket> {
    const client = await RawClient.connect(base)
    client.write(`GET ${path} HTTP/1.1\r\nHost: herald.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`)
    await client.waitFor((c) => c.text().includes('\r\n\r\n') || c.closed, 'the upgrade response')
    if (!client.text().startsWith('HTTP/1.1 101')) throw new Error(`upgrade refused: ${client.text().slice(0, 200)}`)
    return new RawWebSocket(client)
  }

  send(bytes: Uint8Array): void {
    this.client.write(bytes)
  }

  /** The server's frames so far (after the handshake). */
  frames(): ServerFrames {
    const all = this.client.bytes()
    const text = Buffer.from(all).toString('latin1')
    let offset = text.indexOf('\r\n\r\n') + 4
    const out: ServerFrames = { texts: [], pongs: 0 }
    let fragments: Uint8Array[] = []
    while (offset + 2 <= all.byteLength) {
      const b0 = all[offset] as number
      const b1 = all[offset + 1] as number
      let length = b1 & 0x7f
      let at = offset + 2
      if (length === 126) {
        if (at + 2 > all.byteLength) break
        length = ((all[at] as number) << 8) | (all[at + 1] as number)
        at += 2
      } else if (length === 127) {
        if (at + 8 > all.byteLength) break
        length = Number(Buffer.from(all.subarray(at, at + 8)).readBigUInt64BE())
        at += 8
      }
      if (at + length > all.byteLength) break
      const payload = all.subarray(at, at + length)
      const opcode = b0 & 0x0f
      if (opcode === 1 || opcode === 0) {
        fragments.push(payload)
        if (b0 & 0x80) {
          out.texts.push(Buffer.concat(fragments).toString('utf8'))
          fragments = []
        }
      } else if (opcode === 8) out.closeCode = payload.byteLength >= 2 ? ((payload[0] as number) << 8) | (payload[1] as number) : 1005
      else if (opcode === 10) out.pongs++
      offset = at + length
    }
    return out
  }

  /** Waits until the server sent `count` text messages, a close frame, or closed the socket. */
  async settle(count: number, ms = 3000): Promise<ServerFrames> {
    await this.client.waitFor(() => this.frames().texts.length >= count || this.frames().closeCode !== undefined || this.client.closed, `${count} server messages or a close`, ms)
    return this.frames()
  }

  destroy(): void {
    this.client.destroy()
  }
}

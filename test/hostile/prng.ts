/**
 * A seeded pseudo-random generator (mulberry32) and the helpers the hostile corpus draws from, so
 * every run with the same seed sends the same bytes. Set HOSTILE_SEED to replay another run.
 */
export const SEED = Number(process.env.HOSTILE_SEED ?? 0x5eed)

export class Rng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T
  }

  chance(probability: number): boolean {
    return this.next() < probability
  }

  /** `length` characters drawn from `alphabet`. */
  string(length: number, alphabet: string): string {
    let text = ''
    for (let i = 0; i < length; i++) text += alphabet[this.int(0, alphabet.length - 1)]
    return text
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255)
    return out
  }
}

/** Characters that must never reach an SSE line or a topic: C0 controls, DEL, line and paragraph separators. */
export const CONTROL_CHARACTERS = [...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)), '\x7f', '\u0085', '\u2028', '\u2029']

/** What an attacker puts in a field to forge SSE lines. */
export const INJECTIONS = ['\r\n', '\n', '\r', '\n\n', '\r\n\r\n', '\0', '\nid: 99999999999999-0', '\r\nevent: reset', '\ndata: forged', '\nretry: 1', '\n:comment', '\u2028', '\u0085']

export const SAFE = 'abcdefghijklmnopqrstuvwxyz0123456789'


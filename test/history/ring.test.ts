import { describe, expect, test } from 'bun:test'
import { Ring } from '../../src/history/ring'
import { Rng } from '../hostile/prng'

/** Everything a ring holds, oldest first. */
const contents = <T>(ring: Ring<T>) => Array.from({ length: ring.length }, (_, i) => ring.at(i))

describe('Ring', () => {
  test('a fresh ring allocates a couple of slots, not its capacity', () => {
    const ring = new Ring<number>(1000)
    expect(ring.allocated).toBeLessThanOrEqual(2)
    ring.push(1)
    expect(ring.allocated).toBeLessThanOrEqual(2)
  })

  test('it doubles as items arrive, never past its capacity, and stays there once full', () => {
    const ring = new Ring<number>(1000)
    const sizes = new Set<number>()
    for (let i = 0; i < 5000; i++) {
      ring.push(i)
      expect(ring.allocated).toBeGreaterThanOrEqual(ring.length)
      expect(ring.allocated).toBeLessThanOrEqual(Math.max(2, 2 * ring.length))
      sizes.add(ring.allocated)
    }
    expect(ring.allocated).toBe(1000)
    expect(ring.length).toBe(1000)
    expect([...sizes]).toEqual([2, 4, 8, 16, 32, 64, 128, 256, 512, 1000])
    expect(contents(ring)).toEqual(Array.from({ length: 1000 }, (_, i) => 4000 + i))
  })

  test('emptied by shift, it gives most of its memory back', () => {
    const ring = new Ring<number>(1024)
    for (let i = 0; i < 1024; i++) ring.push(i)
    while (ring.length > 1) ring.shift()
    expect(ring.allocated).toBeLessThanOrEqual(4)
    expect(contents(ring)).toEqual([1023])
  })

  test('pushes, evictions, shifts and absolute positions match a plain array, whatever the capacity', () => {
    const rng = new Rng(0x5a11)
    for (const capacity of [1, 2, 3, 5, 8, 13, 100]) {
      const ring = new Ring<number>(capacity)
      const model: number[] = []
      let dropped = 0
      for (let step = 0, next = 0; step < 3000; step++) {
        if (rng.chance(0.7)) {
          const evicted = ring.push(next)
          model.push(next++)
          const expected = model.length > capacity ? model.shift() : undefined
          if (expected !== undefined) dropped++
          expect(evicted).toBe(expected as number)
        } else {
          const shifted = ring.shift()
          if (model.length > 0) dropped++
          expect(shifted).toBe(model.shift() as number)
        }
        expect(ring.length).toBe(model.length)
        expect(ring.first).toBe(dropped)
        expect(ring.end).toBe(dropped + model.length)
        expect(contents(ring)).toEqual(model)
        if (model.length > 0) {
          const position = ring.first + rng.int(0, model.length - 1)
          expect(ring.get(position)).toBe(model[position - dropped] as number)
        }
        expect(ring.firstIndexWhere((item) => item >= next - 2)).toBe(model.filter((item) => item < next - 2).length)
      }
    }
  })
})

import { expect, test } from 'bun:test'
import { TokenBucket } from '../../src/transports/rate-limit'

test('a token bucket allows a burst, then the refill rate', () => {
  let now = 0
  const bucket = new TokenBucket(10, 10, () => now)
  const burst = Array.from({ length: 15 }, () => bucket.take())
  expect(burst.filter(Boolean).length).toBe(10)
  now += 100 // one token back
  expect(bucket.take()).toBe(true)
  expect(bucket.take()).toBe(false)
  now += 10_000 // refills only up to the burst
  expect(Array.from({ length: 15 }, () => bucket.take()).filter(Boolean).length).toBe(10)
})

test('a rate of 0 means no limit', () => {
  const bucket = new TokenBucket(0, 0, () => 0)
  expect(Array.from({ length: 1000 }, () => bucket.take()).every(Boolean)).toBe(true)
})

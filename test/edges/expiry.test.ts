/** atTime: a token's expiry months away must not fire at once (setTimeout holds at most ~24.8 days). */
import { expect, test } from 'bun:test'
import { atTime } from '../../src/transports/expiry'

test('an expiry past what one timer can hold does not fire early; a past one fires on the next turn, not synchronously', async () => {
  let fired = 0
  const cancel = atTime(Date.now() + 40 * 86_400_000, () => fired++)
  await Bun.sleep(30)
  expect(fired).toBe(0)
  cancel()
  const past = atTime(Date.now() - 1000, () => fired++)
  expect(fired).toBe(0)
  await Bun.sleep(5)
  expect(fired).toBe(1)
  past()
})

test('the wait is taken in steps against the clock: it fires when the clock reaches the time, once', async () => {
  let now = 0
  let fired = 0
  const first = atTime(3_000_000_000, () => fired++, () => now)
  // The first step (the longest a timer holds) has not passed on the real clock: nothing yet.
  await Bun.sleep(10)
  expect(fired).toBe(0)
  now = 3_000_000_000
  const cancel = atTime(3_000_000_000, () => fired++, () => now)
  await Bun.sleep(5)
  expect(fired).toBe(1)
  cancel()
  first()
})

const ADJECTIVES = ['brave', 'calm', 'clever', 'eager', 'gentle', 'happy', 'jolly', 'kind', 'lively', 'lucky', 'merry', 'nimble', 'proud', 'quick', 'quiet', 'sunny', 'swift', 'witty', 'bold', 'bright']
const ANIMALS = ['otter', 'fox', 'heron', 'badger', 'lynx', 'owl', 'panda', 'seal', 'wren', 'yak', 'koala', 'moose', 'raven', 'tiger', 'whale', 'zebra', 'gecko', 'bison', 'crane', 'lemur']

/** The shape of every name `randomUserName` makes; a cookie holding anything else gets a new name. */
export const USER_NAME = /^[a-z]{2,12}-[a-z]{2,12}-\d{1,3}$/

function pick<T>(items: readonly T[]): T {
  const [random = 0] = crypto.getRandomValues(new Uint32Array(1))
  return items[random % items.length] as T
}

/** A readable name such as `brave-otter-42`; 40,000 of them, so two visitors rarely share one. */
export function randomUserName(): string {
  const [random = 0] = crypto.getRandomValues(new Uint32Array(1))
  return `${pick(ADJECTIVES)}-${pick(ANIMALS)}-${(random % 100) + 1}`
}

/** True for a name this module could have made (it is safe in HTML, CSS selectors and cookies). */
export function isUserName(text: unknown): text is string {
  return typeof text === 'string' && USER_NAME.test(text)
}

/** Restrictive principals for hub tests (the edges build theirs from tokens: see test/edges/fake-auth.ts). */
import { ALLOW_ALL, type Principal } from '../../src/hub/principal'
import type { Selector } from '../../src/hub/topics'

/** Sees private events under users/ada/ only; may subscribe to users/** (private events filtered) or under users/ada/; may publish under users/ada/. */
export const ADA: Principal = {
  subject: 'ada',
  seesEverything: false,
  mayPublish: (topic) => topic.startsWith('users/ada/'),
  maySubscribe: (selector: Selector) => selector.source === 'users/**' || selector.source.startsWith('users/ada/'),
  maySee: (event) => event.topic.startsWith('users/ada/'),
}

/** May subscribe and publish anywhere, but sees no private event. */
export const GUEST: Principal = { ...ALLOW_ALL, subject: 'guest', seesEverything: false, maySee: () => false }

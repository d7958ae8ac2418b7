/** Restrictive principals for tests (Herald itself only has ALLOW_ALL until tokens come). */
import { ALLOW_ALL, type Principal } from '../../src/hub/principal'
import type { Selector } from '../../src/hub/topics'

/** Sees everything under users/ada/; may subscribe to users/** (filtered) or under users/ada/; may publish under users/ada/. */
export const ADA: Principal = {
  subject: 'ada',
  seesEverything: false,
  mayPublish: (topic) => topic.startsWith('users/ada/'),
  maySubscribe: (selector: Selector) => selector.source === 'users/**' || selector.source.startsWith('users/ada/'),
  maySee: (event) => event.topic.startsWith('users/ada/'),
}

/** May subscribe and publish anywhere, but does not see events named `private`. */
export const GUEST: Principal = { ...ALLOW_ALL, subject: 'guest', seesEverything: false, maySee: (event) => event.event !== 'private' }

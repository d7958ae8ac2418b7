import type { HubEvent } from '../hub/event'
import type { Selector } from '../hub/topics'
import { SelectorRules } from './rules'
import type { AuthPrincipal } from './types'

/**
 * The principals Herald's authentication makes. What each may do:
 *
 * | | publish | subscribe with S | a private event on topic T |
 * | --- | --- | --- | --- |
 * | token | a `herald.publish` rule matches the topic | one `herald.subscribe` rule or one `--public` rule contains S | a `herald.subscribe` rule matches T |
 * | anonymous (key configured) | nothing | one `--public` rule contains S | never |
 * | open (no key configured) | everything (the edge restricts it to loopback) | everything | always |
 *
 * "Contains" is selectorContains: every topic S can match, that one rule matches, so a subscriber
 * can never widen its rights with a wildcard. Events that are not private reach whoever subscribed
 * (the subscribe was checked); `maySee` only decides private ones, and answers true for any event
 * whose `private` is not true, so it is correct whether or not the caller asks it only for private
 * events. `seesEverything` is true only when `maySee` is true for every event, private ones too:
 * for a token whose subscribe rules include `**`, and for the open principal.
 */

/** A principal built from a verified token's claims. */
export class TokenPrincipal implements AuthPrincipal {
  readonly anonymous = false
  readonly seesEverything: boolean

  constructor(
    /** The token's `sub`, if it had one. */
    readonly subject: string | undefined,
    readonly publish: SelectorRules,
    readonly subscribe: SelectorRules,
    /** `--public`: widens what may be subscribed to, never what private events are seen. */
    readonly publicRules: SelectorRules,
    readonly expiresAt: number | undefined,
  ) {
    this.seesEverything = subscribe.everything
  }

  mayPublish(topic: string): boolean {
    return this.publish.matches(topic)
  }

  maySubscribe(selector: Selector): boolean {
    return this.subscribe.contains(selector) || this.publicRules.contains(selector)
  }

  maySee(event: HubEvent): boolean {
    return !isPrivate(event) || this.subscribe.matches(event.topic)
  }
}

/** The principal of a request without a token while a key is configured: read-only, within `--public`. */
export class AnonymousPrincipal implements AuthPrincipal {
  readonly subject = undefined
  readonly anonymous = true
  readonly seesEverything = false
  readonly expiresAt = undefined

  constructor(readonly publicRules: SelectorRules) {}

  mayPublish(): boolean {
    return false
  }

  maySubscribe(selector: Selector): boolean {
    return this.publicRules.contains(selector)
  }

  maySee(event: HubEvent): boolean {
    return !isPrivate(event)
  }
}

/**
 * Everyone's principal while no key is configured: may subscribe to anything; what it may publish
 * is the edges' decision (loopback only, unless --dev), so `mayPublish` says yes here. It sees no
 * private event: nobody can show a token that entitles them to one, so a private event reaches
 * only the server's own code in that mode.
 */
export const OPEN_PRINCIPAL: AuthPrincipal = Object.freeze({
  subject: undefined,
  anonymous: true,
  expiresAt: undefined,
  seesEverything: false,
  mayPublish: () => true,
  maySubscribe: () => true,
  maySee: (event: HubEvent) => !isPrivate(event),
})

/** `event.private` (set by the publish API when the publisher asks for it); absent = not private. */
function isPrivate(event: HubEvent): boolean {
  return (event as HubEvent & { readonly private?: boolean }).private === true
}

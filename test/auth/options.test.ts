/** The auth options through the plugin and the runtime: `herald({ jwtSecret, jwtKey, public })`. */
import { expect, test } from 'bun:test'
import { ConfigError } from '../../src/config'
import { hubSettings } from '../../src/options'
import type { HeraldAuthenticator } from '../../src/auth/authenticator'
import { herald } from '../../src/plugin'
import { HeraldRuntime } from '../../src/runtime'
import { keyPair, SECRET } from './fixtures'

test('the runtime builds its Authenticator from the settings: no key → not enabled', async () => {
  const open = new HeraldRuntime(hubSettings({}))
  expect(open.auth.enabled).toBe(false)
  const closed = new HeraldRuntime(hubSettings({ jwtSecret: SECRET, jwtKey: (await keyPair('ES256')).pem, public: ['news/**'] }))
  expect(closed.auth.enabled).toBe(true)
  const built = closed.auth as HeraldAuthenticator
  expect(built.algorithms).toEqual(['HS256', 'HS384', 'HS512', 'ES256'])
  expect(built.publicSelectors).toEqual(['news/**'])
  await Promise.all([open.shutdown(0), closed.shutdown(0)])
})

test('herald() refuses bad auth options at once, with the option named', () => {
  expect(() => herald({ jwtSecret: 'short' })).toThrow(ConfigError)
  expect(() => herald({ jwtSecret: 'short' })).toThrow('--jwt-secret')
  expect(() => herald({ public: ['news/**'] })).toThrow('--public needs --jwt-secret or --jwt-key')
  expect(() => herald({ jwtSecret: SECRET, public: ['news/**/x'] })).toThrow('--public')
  expect(() => herald({ jwtKey: '/nonexistent.pem' })).toThrow('--jwt-key')
})

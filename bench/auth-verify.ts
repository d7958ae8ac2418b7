/**
 * `bun bench/auth-verify.ts`: how fast one Herald verifies tokens (per connection or publish, never
 * per delivery) and answers the principal's questions. Prints numbers; asserts nothing.
 */
import { exportSPKI, generateKeyPair, SignJWT } from 'jose'
import { createAuthenticator } from '../src/auth/authenticator'
import { DEFAULTS } from '../src/config'
import { parseSelector } from '../src/hub/topics'

const SECRET = 'bench-secret-0123456789-abcdefghijklmnop'
const CLAIMS = { sub: 'ada', herald: { subscribe: ['users/{sub}/**', 'news/*', 'rooms/a', 'rooms/b'], publish: ['chat/**'] } }
const ROUNDS = Number(process.env.BENCH_VERIFY_ROUNDS ?? 5000)

async function rate(label: string, run: () => Promise<unknown> | unknown, rounds = ROUNDS): Promise<void> {
  for (let i = 0; i < Math.min(200, rounds); i++) await run()
  const start = performance.now()
  for (let i = 0; i < rounds; i++) await run()
  const ms = performance.now() - start
  console.log(`${label.padEnd(40)} ${Math.round((rounds / ms) * 1000).toLocaleString('en').padStart(12)} /s   ${((ms / rounds) * 1000).toFixed(1).padStart(8)} µs each`)
}

const hs = createAuthenticator({ ...DEFAULTS, jwtSecret: SECRET })
const hsToken = await new SignJWT(CLAIMS).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(SECRET))
await rate('verify HS256', () => hs.verify(hsToken))
for (const alg of ['ES256', 'RS256', 'EdDSA']) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
  const auth = createAuthenticator({ ...DEFAULTS, jwtKey: await exportSPKI(publicKey) })
  const token = await new SignJWT(CLAIMS).setProtectedHeader({ alg }).setExpirationTime('1h').sign(privateKey)
  await rate(`verify ${alg}`, () => auth.verify(token))
}
const principal = await hs.verify(hsToken)
const selector = parseSelector('users/ada/inbox/*')
const event = { topic: 'users/ada/inbox/1', private: true } as never
await rate('maySubscribe (pattern, 4 rules)', () => principal.maySubscribe(selector), 1_000_000)
await rate('mayPublish (pattern rule)', () => principal.mayPublish('chat/room/1'), 1_000_000)
await rate('maySee (private event)', () => principal.maySee(event), 1_000_000)

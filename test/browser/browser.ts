import { afterAll, beforeAll } from 'bun:test'
import { mkdirSync } from 'node:fs'
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core'
import type { HeraldOptions } from '../../src/config'
import { startServer, type TestServer } from '../helpers'

/** Debian's Chromium (`apt-get install -y chromium`; .ci/run installs it). Never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium'
/** Screenshots go here (git ignores it); look at them to judge the pages. */
export const ARTIFACTS = 'test-artifacts'

/** Laptop and phone viewports: every page is screenshotted at both. */
export const VIEWPORTS = { laptop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const

export async function launchBrowser(): Promise<Browser> {
  if (!(await Bun.file(CHROMIUM).exists())) {
    throw new Error(`browser tests need ${CHROMIUM}: apt-get update && apt-get install -y chromium`)
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
}

/**
 * A fresh context (own cookies and storage, like a separate visitor) with one page; `options` may
 * set e.g. a time zone. Errors thrown by page scripts, and console errors, are collected in
 * `errors` so a test can assert there were none.
 */
export async function openPage(browser: Browser, url: string, viewport: { width: number; height: number } = VIEWPORTS.laptop, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport, ...options })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text())
  })
  await page.goto(url)
  return { context, page, errors }
}

/** Saves `test-artifacts/<name>.png` (full page). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true })
}

/** A Herald and a Chromium for one test file, started before its tests and stopped after them. */
export interface BrowserSuite {
  /** The server's base URL, e.g. http://127.0.0.1:41234. */
  readonly base: string
  /** The same as a WebSocket URL base, e.g. ws://127.0.0.1:41234. */
  readonly wsBase: string
  /** The server's hub: tests publish through it what any publisher could (no publish rules apply). */
  readonly hub: TestServer['hub']
  /** Opens `path` on the server in a fresh context (see openPage). */
  open(path: string, viewport?: { width: number; height: number }, options?: BrowserContextOptions): ReturnType<typeof openPage>
}

export function browserSuite(overrides: Partial<HeraldOptions> = {}): BrowserSuite {
  let server: TestServer | undefined
  let browser: Browser | undefined
  beforeAll(async () => {
    ;[server, browser] = await Promise.all([startServer({ feedDb: ':memory:', ...overrides }), launchBrowser()])
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })
  const started = () => {
    if (!server || !browser) throw new Error('browserSuite is used before its beforeAll ran')
    return { server, browser }
  }
  return {
    get base() {
      return started().server.base
    },
    get wsBase() {
      return started().server.wsBase
    },
    get hub() {
      return started().server.hub
    },
    open: (path, viewport, options) => openPage(started().browser, `${started().server.base}${path}`, viewport, options),
  }
}

// The index page's live numbers: one EventSource per built-in stream. The streams are Herald's own
// (nobody can publish to them), but a proxy, an old server or a bug could send anything: every
// value is checked before it is shown, and a value that does not fit leaves the last good one.
// The built-in streams are plain SSE endpoints, not hub topics, so EventSource reads them; the
// topic `news` (what the terminal commands publish to) is read with Herald's client.
// The terminal commands show this server's own address.
import { connect } from '/client/herald.js'

for (const origin of document.querySelectorAll('.origin')) origin.textContent = location.origin

/** A finite number ≥ 0, or undefined. */
const amount = (value) => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined)

const clock = new EventSource('/streams/clock')
clock.addEventListener('message', (event) => {
  // A count of seconds: digits only.
  if (/^\d{1,12}$/.test(event.data)) document.getElementById('clock').textContent = `${event.data} s`
})

const metrics = new EventSource('/streams/metrics')
metrics.addEventListener('metrics', (event) => {
  let sample
  try {
    sample = JSON.parse(event.data)
  } catch {
    return
  }
  const percent = amount(sample?.cpu?.percent)
  const rss = amount(sample?.memory?.rss)
  if (percent !== undefined) document.getElementById('cpu').textContent = `${percent.toFixed(1)}%`
  if (rss !== undefined) document.getElementById('rss').textContent = `${Math.round(rss / 1024 / 1024)} MB`
})

/** The launch steps the stream sends; anything else is not shown. */
const STEPS = new Set(['T-minus 3', 'T-minus 2', 'T-minus 1'])

const button = document.getElementById('launch-button')
const launch = document.getElementById('launch')
button.addEventListener('click', () => {
  button.disabled = true
  const source = new EventSource('/streams/launch')
  let lifted = false
  const finish = (text) => {
    launch.textContent = text
    source.close()
    button.disabled = false
  }
  source.addEventListener('message', (event) => {
    if (STEPS.has(event.data)) launch.textContent = event.data
  })
  source.addEventListener('liftoff', () => {
    lifted = true
    finish('Liftoff!')
  })
  // The stream ends after liftoff; close rather than let EventSource reconnect for another launch.
  source.addEventListener('error', () => {
    if (!lifted) finish('Lost the connection')
  })
})

/** Events of `news` shown at once, newest first; each cut to NEWS_TEXT characters. */
const NEWS_SHOWN = 5
const NEWS_TEXT = 200

const news = document.getElementById('news')
const newsStatus = document.getElementById('news-status')
const setNewsStatus = (state, label) => {
  newsStatus.dataset.state = state
  newsStatus.textContent = label
}

async function followNews() {
  const herald = connect({ transport: 'sse' })
  const items = herald.subscribe('news', {
    onOpen: () => setNewsStatus('open', 'Live'),
    onRetry: () => setNewsStatus('connecting', 'Reconnecting…'),
  })
  for await (const item of items) {
    // A live tail has no state to reload after a reset: it just goes on from the server's head.
    if (item.type !== 'event') continue
    const entry = document.createElement('li')
    entry.dataset.id = item.id
    // Anyone may publish to news: the text is shown as text, and cut short.
    entry.textContent = item.text.length > NEWS_TEXT ? `${item.text.slice(0, NEWS_TEXT)}…` : item.text
    news.prepend(entry)
    while (news.children.length > NEWS_SHOWN) news.lastElementChild.remove()
    document.getElementById('news-empty').hidden = true
  }
}

followNews().catch((error) => setNewsStatus('error', `Stopped: ${String(error?.message ?? error).slice(0, 200)}`))

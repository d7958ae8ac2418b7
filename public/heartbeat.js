// Heartbeat revealer: one EventSource, one list item per message (newest first, at most 100 kept).
// EventSource reconnects by itself after an error; the status badge shows what it is doing.
// ?interval= is checked here by the server's rule (src/streams/heartbeat.ts: whole milliseconds,
// 100 to 60000) before anything connects, so a bad value gets one clear message and nothing else.
const INTERVAL = { min: 100, max: 60_000, default: 2000 }

const list = document.getElementById('beats')
const status = document.getElementById('status')
const count = document.getElementById('count')
const empty = document.getElementById('empty')
const link = document.getElementById('stream-link')
const every = document.getElementById('every')

function setStatus(state, text) {
  status.dataset.state = state
  status.textContent = text
}

/** The interval in milliseconds, or undefined when the server would refuse it. */
function parseInterval(text) {
  if (text === null || text === '') return INTERVAL.default
  if (!/^\d{1,6}$/.test(text)) return undefined
  const ms = Number(text)
  return ms >= INTERVAL.min && ms <= INTERVAL.max ? ms : undefined
}

/** "2 seconds", "1 second", "0.5 seconds". */
function seconds(ms) {
  const value = ms / 1000
  return `${value} ${value === 1 ? 'second' : 'seconds'}`
}

const requested = new URLSearchParams(location.search).get('interval')
const interval = parseInterval(requested)

if (interval === undefined) {
  // One state: refused, and why. No stream is opened, so nothing else claims to be waiting.
  const shown = requested.length > 20 ? `${requested.slice(0, 20)}…` : requested
  setStatus('error', `Refused: ?interval=${shown} is not allowed. Use whole milliseconds from ${INTERVAL.min} to ${INTERVAL.max}.`)
  every.textContent = 'at the interval you choose'
  empty.hidden = true
  document.getElementById('counter').hidden = true
} else {
  const url = requested === null || requested === '' ? '/streams/heartbeat' : `/streams/heartbeat?interval=${interval}`
  link.href = url
  every.textContent = `every ${seconds(interval)}`
  let received = 0
  const source = new EventSource(url)
  source.addEventListener('open', () => setStatus('open', 'Connected'))
  source.addEventListener('error', () => {
    // CLOSED means the server refused the stream; otherwise EventSource retries by itself.
    if (source.readyState === EventSource.CLOSED) {
      setStatus('error', 'Refused by the server')
      empty.hidden = true
    } else setStatus('connecting', 'Reconnecting…')
  })
  source.addEventListener('message', (event) => {
    received++
    count.textContent = String(received)
    const item = document.createElement('li')
    const text = document.createElement('span')
    // Shown as text, and cut short: the server sends "Hello!", anything long is not worth a screen.
    const data = String(event.data)
    text.textContent = data.length > 200 ? `${data.slice(0, 200)}…` : data
    const time = document.createElement('time')
    const now = new Date()
    time.dateTime = now.toISOString()
    time.textContent = now.toLocaleTimeString()
    item.append(text, time)
    list.prepend(item)
    while (list.children.length > 100) list.lastElementChild.remove()
  })
}

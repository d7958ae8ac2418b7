// Heartbeat revealer: one EventSource, one list item per message (newest first, at most 100 kept).
// EventSource reconnects by itself after an error; the status badge shows what it is doing.
const params = new URLSearchParams(location.search)
const interval = params.get('interval')
const url = interval ? `/streams/heartbeat?interval=${encodeURIComponent(interval)}` : '/streams/heartbeat'

const list = document.getElementById('beats')
const status = document.getElementById('status')
const count = document.getElementById('count')
document.getElementById('stream-link').href = url
if (interval && Number(interval) > 0) document.getElementById('interval').textContent = String(Number(interval) / 1000)

let received = 0
const source = new EventSource(url)

function setStatus(state, text) {
  status.dataset.state = state
  status.textContent = text
}

source.addEventListener('open', () => setStatus('open', 'Connected'))
source.addEventListener('error', () => {
  // CLOSED means the server refused the stream (a bad ?interval= gets a 400); otherwise it retries.
  if (source.readyState === EventSource.CLOSED) setStatus('error', 'Refused: check ?interval= (100 to 60000)')
  else setStatus('connecting', 'Reconnecting…')
})
source.addEventListener('message', (event) => {
  received++
  count.textContent = String(received)
  const item = document.createElement('li')
  const text = document.createElement('span')
  text.textContent = event.data
  const time = document.createElement('time')
  const now = new Date()
  time.dateTime = now.toISOString()
  time.textContent = now.toLocaleTimeString()
  item.append(text, time)
  list.prepend(item)
  while (list.children.length > 100) list.lastElementChild.remove()
})

// The index page's live numbers: one EventSource per built-in stream. The streams are Herald's own
// (nobody can publish to them), but a proxy, an old server or a bug could send anything: every
// value is checked before it is shown, and a value that does not fit leaves the last good one.
// The terminal commands show this server's own address.
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

// The index page's live numbers: one EventSource per built-in stream.
// The terminal commands show this server's own address.
for (const origin of document.querySelectorAll('.origin')) origin.textContent = location.origin

const clock = new EventSource('/streams/clock')
clock.addEventListener('message', (event) => {
  document.getElementById('clock').textContent = `${event.data} s`
})

const metrics = new EventSource('/streams/metrics')
metrics.addEventListener('metrics', (event) => {
  const sample = JSON.parse(event.data)
  document.getElementById('cpu').textContent = `${sample.cpu.percent.toFixed(1)}%`
  document.getElementById('rss').textContent = `${Math.round(sample.memory.rss / 1024 / 1024)} MB`
})

const button = document.getElementById('launch-button')
const launch = document.getElementById('launch')
button.addEventListener('click', () => {
  button.disabled = true
  const source = new EventSource('/streams/launch')
  const finish = (text) => {
    launch.textContent = text
    source.close()
    button.disabled = false
  }
  source.addEventListener('message', (event) => {
    launch.textContent = event.data
  })
  source.addEventListener('liftoff', (event) => finish(event.data))
  // The stream ends after liftoff; close rather than let EventSource reconnect for another launch.
  source.addEventListener('error', () => {
    if (launch.textContent !== 'Liftoff!') finish('Lost the connection')
  })
})

// The live feed's connection badge. htmx-ext-sse does the real work (connect, swap, reconnect);
// this only reports what it is doing, from the events it fires on the sse-connect element.
const status = document.getElementById('feed-status')

function show(state, text) {
  status.dataset.state = state
  status.textContent = text
}

document.body.addEventListener('htmx:sseOpen', () => show('open', 'Live'))
document.body.addEventListener('htmx:sseError', () => show('connecting', 'Reconnecting…'))

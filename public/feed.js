// The live feed's client side. htmx-ext-sse does the real work (connect, swap, reconnect); this
// 1. reports the connection in the badge, from the events the extension fires;
// 2. refuses any `posts` update that is not a list the server renders (the `feed` topic is the
//    server's own, but a page should not trust the wire alone: junk, markup or a list of another
//    shape must never reach the page): the swap is cancelled unless the update is, character for
//    character, the markup src/demos/feed/render.ts makes (and what is swapped in sits inside
//    hx-disable, so htmx would not act on it anyway);
// 3. shows each post's time in the viewer's time zone (the server writes UTC into <time datetime>),
//    again after every swap, since a swap puts the server's UTC text back.
const status = document.getElementById('feed-status')
const posts = document.getElementById('posts')

/**
 * One post exactly as render.ts's postItem writes it, followed by the newline postItems puts after
 * each. The author must match the name rule (names.ts USER_NAME) and appear twice alike, the time
 * must be UTC as Date#toISOString writes it, and the text is escaped text: no < or > at all.
 * Matching the text rather than parsing it keeps junk out of every parser, so not even an inert
 * parse sees an inline handler (Chrome reports those to the console as CSP violations).
 */
const POST = /<li class="post" id="post-\d{1,15}" data-author="([a-z]{2,12}-[a-z]{2,12}-\d{1,3})"><div class="post-meta"><strong class="author">\1<\/strong> <time datetime="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)" title="\2">\d\d:\d\d UTC<\/time><\/div><p class="post-text">[^<>]*<\/p><\/li>\n/y
/** Posts in one update (routes.ts FEED_LENGTH). */
const FEED_LENGTH = 50

function show(state, text) {
  status.dataset.state = state
  status.textContent = text
}

document.body.addEventListener('htmx:sseOpen', () => show('open', 'Live'))
document.body.addEventListener('htmx:sseError', () => show('connecting', 'Reconnecting…'))

/** True when `html` is a list update the server could have sent: 1 to FEED_LENGTH posts and nothing else. */
function isPostList(html) {
  if (typeof html !== 'string') return false
  POST.lastIndex = 0
  let count = 0
  while (POST.lastIndex < html.length) {
    const match = POST.exec(html)
    if (!match || Number.isNaN(Date.parse(match[2])) || ++count > FEED_LENGTH) return false
  }
  return count >= 1
}

// The extension fires its events on the element with sse-swap (#feed-updates), which swaps into #posts.
const updates = document.getElementById('feed-updates')
updates.addEventListener('htmx:sseBeforeMessage', (event) => {
  if (!isPostList(event.detail?.data)) event.preventDefault()
})

/** Writes each post's time in the viewer's zone: "14:05" today, "3 Mar, 14:05" before; the full date on hover. */
function localizeTimes() {
  const today = new Date().toDateString()
  for (const time of posts.querySelectorAll('time[datetime]')) {
    const date = new Date(time.getAttribute('datetime'))
    if (Number.isNaN(date.getTime())) continue
    const short = date.toDateString() === today ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : date.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
    if (time.textContent !== short) time.textContent = short
    const full = date.toLocaleString([], { dateStyle: 'full', timeStyle: 'long' })
    if (time.title !== full) time.title = full
  }
}

localizeTimes()
updates.addEventListener('htmx:sseMessage', localizeTimes)
document.body.addEventListener('htmx:afterSettle', localizeTimes)

// Chat over Herald, with its client (/client/herald.js: src/client/). Every chat topic is the
// server's: this page never publishes, it asks the chat's routes, which publish for its token
// (`from` is the token's `sub`, never what the page writes). One connect() per join, with a token:
//   POST /chat/token {name, key}           claims the name for this tab, answers a 15-minute token
//   herald.subscribe([chat/users/<name>/inbox, chat/claim/<key>])  one WebSocket, authenticated
//   herald.subscribe([chat/room/<room>, chat/presence/<room>])     each time it is live: join, history
//   POST /chat/rooms/<room>/messages, POST /chat/users/<name>/messages (Bearer token), one at a time
// Topics: chat/room/<room> (messages), chat/presence/<room> (the roster) and
// chat/users/<name>/inbox (direct messages: private events only a token for that name can read).
//
// Joining, in order: get a token for the name (refused while another tab holds it), connect with
// it (the client sends it in its first WebSocket message, and a fresh one from the same function
// before it expires), subscribe to the inbox and to chat/claim/<key> (a topic named by this tab's
// secret key: it shows the server this page is still connected), then to the room, enter the
// room's roster and fetch its recent messages (merged in by id, so a message that arrives both
// live and in the history is shown once). After a dropped connection the client gets a token again
// (claiming the name again) and resumes each subscription from the last id it saw, so nothing is
// missed or shown twice; the page enters the roster again.
//
// Payloads are still checked before they are shown: wrong types, missing fields, huge or non-JSON
// data are ignored, never thrown on.
import { connect, HeraldError } from '/client/herald.js'

const $ = (id) => document.getElementById(id)
const joinForm = $('join-form')
const joinError = $('join-error')
const chat = $('chat')
const messages = $('messages')
const online = $('online')
const to = $('to')
const text = $('text')
const status = $('status')

/** The rules the server applies (src/demos/chat/topics.ts). */
const NAME = /^[A-Za-z0-9_-]{1,24}$/
const TEXT_MAX = 2000
const ID = /^(\d{1,15})-(\d{1,15})$/
/** Lines kept on screen; older ones are dropped. */
const MAX_LINES = 500
/** The most names a roster may list before it is taken for junk. */
const MAX_ROSTER = 1000

const params = new URLSearchParams(location.search)
const stored = (storage, key) => {
  try {
    return storage.getItem(key)
  } catch {
    return null // storage can be disabled; the page still works
  }
}
const keep = (storage, key, value) => {
  try {
    storage.setItem(key, value)
  } catch {}
}
const suggested = [params.get('name'), stored(localStorage, 'herald-chat-name')].find((name) => typeof name === 'string' && NAME.test(name))
$('name').value = suggested ?? `guest-${Math.floor(Math.random() * 900) + 100}`
const suggestedRoom = params.get('room')
$('room').value = suggestedRoom && NAME.test(suggestedRoom) ? suggestedRoom : 'lobby'

/**
 * This tab's claim key: random, kept for the tab (sessionStorage), so a reload or a reconnect
 * claims the same name again while another tab or person is refused. getRandomValues works on
 * plain http too (randomUUID needs a secure context).
 */
const claimKey = (() => {
  const existing = stored(sessionStorage, 'herald-chat-key')
  if (existing && /^[A-Za-z0-9_-]{16,64}$/.test(existing)) return existing
  const key = Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('')
  keep(sessionStorage, 'herald-chat-key', key)
  return key
})()

let me = ''
let room = ''
/** This join's connection, and the signal that ends its subscriptions (leaving, refusal, a new join). */
let herald
let session
let roster = []
/** The version of the roster shown (a cluster's rosters carry one: two nodes' may arrive in either order; the newest wins). */
let rosterVersion = 0
/** The token for `me` and when it expires (ms); got again by freshToken. */
let current
/** True once the room subscription runs (it starts when the inbox subscription is first live). */
let inRoom = false
/** Publishes go out one after another, so they arrive in the order the user sent them. */
let sending = Promise.resolve()
/** Ids of the lines on screen, so history and live events never show one message twice. */
const shown = new Set()

const roomTopic = (name) => `chat/room/${name}`
const presenceTopic = (name) => `chat/presence/${name}`
// A chat name is one topic segment as it is (escapeSegment leaves A-Z a-z 0-9 _ - alone).
const inboxTopic = (name) => `chat/users/${name}/inbox`
const claimTopic = (key) => `chat/claim/${key}`
const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The error in a refused answer, as the client's HeraldError (so the client knows what not to retry). */
async function refusal(response) {
  const body = await response.json().catch(() => undefined)
  const { code, message } = isObject(body?.error) ? body.error : {}
  return new HeraldError(typeof code === 'string' ? code : 'bad_response', typeof message === 'string' ? message : `HTTP ${response.status}`, response.status)
}

/**
 * A new token for `me`: claims the name for this tab again (POST /chat/token). The client calls it
 * at every connect and before the token expires; a refusal (name_taken) ends the subscriptions.
 */
async function freshToken() {
  const response = await fetch('/chat/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: me, key: claimKey }) })
  if (!response.ok) throw await refusal(response)
  const body = await response.json()
  current = { token: body.token, expiresAt: body.expiresAt }
  return body.token
}

/** The token for this page's own requests: the one in hand while it has a minute left, else a new one. */
const token = () => (current && current.expiresAt - Date.now() > 60_000 ? current.token : freshToken())

/** POSTs to a chat route with the token; throws the refusal. */
async function post(path, body = {}) {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await token()}` }, body: JSON.stringify(body) })
  if (!response.ok) throw await refusal(response)
  return response.json()
}

/** Sends after every earlier send has been answered, so they arrive in order; a failure is shown, never thrown. */
function send(path, body) {
  const attempt = sending.then(() => post(path, body))
  sending = attempt.catch((error) => line('system', [['', `Not sent: ${String(error?.message ?? error).slice(0, 300)}`]]))
  return sending
}

function setStatus(state, label) {
  status.dataset.state = state
  status.textContent = label
}

/** -1, 0 or 1: ids compare as numbers, part by part. */
function compareIds(a, b) {
  const [, aMs, aSeq] = ID.exec(a)
  const [, bMs, bSeq] = ID.exec(b)
  return Math.sign(Number(aMs) - Number(bMs) || Number(aSeq) - Number(bSeq))
}

/** `{from, text}` if `data` is a message the page may show, else undefined (same rule as the server). */
function chatText(data) {
  if (!isObject(data)) return undefined
  const { from, text } = data
  if (typeof from !== 'string' || !NAME.test(from)) return undefined
  if (typeof text !== 'string' || text.length > TEXT_MAX || text.trim() === '') return undefined
  return { from, text }
}

/** A <time> for the moment an id was issued (now, for a line without one), in the viewer's time zone; undefined if it is not a plausible time. */
function timeOf(id) {
  const ms = id === undefined ? Date.now() : Number(ID.exec(id)?.[1])
  const date = new Date(ms)
  if (!Number.isFinite(ms) || Number.isNaN(date.getTime())) return undefined
  const element = document.createElement('time')
  element.dateTime = date.toISOString()
  const today = new Date().toDateString() === date.toDateString()
  element.textContent = today ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : date.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
  element.title = date.toLocaleString()
  return element
}

/**
 * Shows a line; every piece of user text goes in as textContent, never as HTML. A line with an
 * event id shows that event's time and is placed in id order (history arrives after live lines);
 * with `once`, an id already on screen is not shown again. A line without an id (the sender's copy
 * of a direct message, a notice) shows the time now and goes last.
 */
function line(className, parts, id, once = false) {
  if (id !== undefined && once) {
    if (shown.has(id)) return
    shown.add(id)
  }
  const item = document.createElement('li')
  if (className) item.className = className
  const time = timeOf(id)
  if (time) item.append(time)
  for (const [kind, value] of parts) {
    const span = document.createElement('span')
    span.className = kind
    span.textContent = value
    item.append(span)
  }
  const atBottom = atEnd || messages.scrollTop + messages.clientHeight >= messages.scrollHeight - 8
  let before = null
  if (id !== undefined) {
    item.dataset.id = id
    // Walk back past newer lines (and lines without an id that came after them).
    for (let other = messages.lastElementChild; other; other = other.previousElementSibling) {
      if (other.dataset.id !== undefined && compareIds(other.dataset.id, id) <= 0) break
      before = other
    }
  }
  messages.insertBefore(item, before)
  while (messages.children.length > MAX_LINES) {
    const first = messages.firstElementChild
    if (first.dataset.id !== undefined) shown.delete(first.dataset.id)
    first.remove()
  }
  if (atBottom) messages.scrollTop = messages.scrollHeight
}

/**
 * True while the message list is scrolled to its end (as it starts). New lines keep it there, and
 * so does a change of its size (the online list growing, a phone keyboard opening), which would
 * otherwise leave the newest line under the fold.
 */
let atEnd = true
messages.addEventListener('scroll', () => {
  atEnd = messages.scrollTop + messages.clientHeight >= messages.scrollHeight - 8
})
new ResizeObserver(() => {
  if (atEnd) messages.scrollTop = messages.scrollHeight
}).observe(messages)

/** The sorted, de-duplicated names of a `presence` event for this room, or undefined if it is not one. */
function rosterIn(data) {
  if (!isObject(data) || data.room !== room || !Array.isArray(data.users) || data.users.length > MAX_ROSTER) return undefined
  if (!data.users.every((user) => typeof user === 'string' && NAME.test(user))) return undefined
  return [...new Set(data.users)].sort()
}

function showRoster(users, id) {
  const before = new Set(roster)
  const after = new Set(users)
  // The first roster after joining just lists who is here; later ones announce arrivals and departures.
  if (roster.length > 0) {
    for (const user of users) if (!before.has(user) && user !== me) line('system', [['', `${user} joined`]], id)
    for (const user of roster) if (!after.has(user) && user !== me) line('system', [['', `${user} left`]], id)
  }
  roster = users
  $('online-count').textContent = `(${users.length})`
  online.replaceChildren()
  for (const user of users) {
    const item = document.createElement('li')
    const name = document.createElement('span')
    name.textContent = user === me ? `${user} (you)` : user
    item.append(name)
    if (user !== me) {
      const dm = document.createElement('button')
      dm.type = 'button'
      dm.className = 'secondary'
      dm.textContent = 'Message'
      dm.addEventListener('click', () => {
        to.value = user
        text.focus()
      })
      item.append(dm)
    }
    online.append(item)
  }
  const chosen = to.value
  to.replaceChildren(new Option('Everyone', ''))
  for (const user of users) if (user !== me) to.append(new Option(`Only ${user}`, user))
  to.value = users.includes(chosen) ? chosen : ''
}

function showDirect(message) {
  const direct = chatText(message.data)
  if (!direct || message.data.to !== me) return
  line('direct', [['tag', 'direct'], ['from', `${direct.from}: `], ['text', direct.text]], message.id, true)
}

/** Fetches the room's recent messages and merges them in by id. */
async function loadHistory(forRoom, signal) {
  try {
    const response = await fetch(`/chat/rooms/${encodeURIComponent(forRoom)}/messages`, { headers: { authorization: `Bearer ${await token()}` }, signal })
    if (!response.ok) return
    const body = await response.json()
    if (signal.aborted || forRoom !== room || !isObject(body) || !Array.isArray(body.messages)) return
    for (const item of body.messages) {
      const message = isObject(item) && typeof item.id === 'string' && ID.test(item.id) ? chatText(item) : undefined
      if (message) line('', [['from', `${message.from}: `], ['text', message.text]], item.id, true)
    }
  } catch {
    // No history is not an error: live messages still arrive.
  }
}

/** Enters the room: its subscription starts the first time the inbox subscription is live; each time the room's is live, join its roster and load its history. */
function enterRoom(signal) {
  if (inRoom) return
  inRoom = true
  follow(
    herald.subscribe([roomTopic(room), presenceTopic(room)], {
      signal,
      onOpen: () => {
        setStatus('open', 'Connected')
        send(`/chat/rooms/${room}/join`)
        loadHistory(room, signal)
      },
      onRetry: () => setStatus('connecting', 'Reconnecting…'),
    }),
    signal,
    () => {
      // The server could not replay everything missed while disconnected; the history fills what it can.
      line('system', [['', 'Reconnected; some messages from while you were away may be missing.']])
      loadHistory(room, signal)
    },
  )
}

/** Shows a subscription's events until it ends; `onReset` handles its resets. */
async function follow(items, signal, onReset) {
  try {
    for await (const item of items) {
      if (item.type === 'reset') onReset(item)
      else onEvent(item)
    }
  } catch (error) {
    if (signal.aborted) return
    // Another tab took the name while this one was away: back to the form.
    if (error?.code === 'name_taken') refuse(`“${me}” is already in the chat. Pick another name.`)
    else line('system', [['', `Error: ${String(error?.message ?? error).slice(0, 300)}`]])
  }
}

/** Ends this join's subscriptions and its connection. */
function stop() {
  session?.abort()
  herald?.close()
}

/** Leaves the chat view for the join form, with `reason` shown there. */
function refuse(reason, nameInvalid = true) {
  stop()
  chat.hidden = true
  joinForm.hidden = false
  document.body.classList.remove('chatting')
  joinError.textContent = reason
  joinError.hidden = false
  if (!nameInvalid) return
  $('name').setAttribute('aria-invalid', 'true')
  $('name').focus()
  $('name').select()
}

function onEvent(message) {
  const { topic, id, event: name } = message
  if (topic === presenceTopic(room)) {
    // Only the server publishes here; a `presence` on the room topic is anyone's and ignored.
    if (name === 'presence') {
      const users = rosterIn(message.data)
      const version = Number.isSafeInteger(message.data?.version) ? message.data.version : undefined
      if (users && (version === undefined || version > rosterVersion)) {
        if (version !== undefined) rosterVersion = version
        showRoster(users, id)
      }
    }
  } else if (topic === roomTopic(room)) {
    if (name === 'message') {
      const chatMessage = chatText(message.data)
      if (chatMessage) line('', [['from', `${chatMessage.from}: `], ['text', chatMessage.text]], id, true)
    }
  } else if (topic === inboxTopic(me) && name === 'direct') {
    showDirect(message)
  }
}

/**
 * Starts this join: a token for the name first (so a name in use is refused on the form), then the
 * connection with it, the inbox subscription, and the room once the inbox is live.
 */
async function start() {
  stop()
  session = new AbortController()
  const { signal } = session
  current = undefined
  inRoom = false
  try {
    await freshToken()
  } catch (error) {
    if (signal.aborted) return
    if (error?.code === 'name_taken') refuse(`“${me}” is already in the chat. Pick another name.`)
    else refuse(`Could not join: ${String(error?.message ?? error).slice(0, 300)}`, false)
    return
  }
  if (signal.aborted) return
  // The first connect uses the token just got; every later one (and every refresh) claims again.
  let first = current.token
  herald = connect({
    token: () => {
      const given = first
      first = undefined
      return given ?? freshToken()
    },
  })
  // The inbox replays nothing on a first join, so it never shows direct messages sent to an
  // earlier holder of the name; after a reconnect the client resumes it from where it was.
  follow(
    herald.subscribe([inboxTopic(me), claimTopic(claimKey)], { signal, onOpen: () => enterRoom(signal), onRetry: () => setStatus('connecting', 'Reconnecting…') }),
    signal,
    () => {},
  )
}

joinForm.addEventListener('submit', (event) => {
  event.preventDefault()
  const name = $('name').value.trim()
  const chosenRoom = $('room').value.trim()
  if (!NAME.test(name) || !NAME.test(chosenRoom)) return
  me = name
  room = chosenRoom
  keep(localStorage, 'herald-chat-name', me)
  roster = []
  rosterVersion = 0
  shown.clear()
  messages.replaceChildren()
  showRoster([], undefined)
  joinError.hidden = true
  $('name').removeAttribute('aria-invalid')
  const you = document.createElement('span')
  you.className = 'you'
  you.textContent = ` · you are ${me}`
  $('room-title').replaceChildren(`#${room}`, you)
  setStatus('connecting', 'Connecting…')
  joinForm.hidden = true
  chat.hidden = false
  document.body.classList.add('chatting')
  start()
  text.focus()
})

$('composer').addEventListener('submit', (event) => {
  event.preventDefault()
  const body = text.value.trim()
  if (!body || body.length > TEXT_MAX) return
  if (to.value) {
    send(`/chat/users/${to.value}/messages`, { text: body })
    // The sender cannot read the recipient's inbox, so it shows its own copy.
    line('direct', [['tag', `to ${to.value}`], ['from', `${me}: `], ['text', body]])
  } else {
    send(`/chat/rooms/${room}/messages`, { text: body })
  }
  text.value = ''
})

$('leave-button').addEventListener('click', () => {
  send(`/chat/rooms/${room}/leave`)
  stop()
  chat.hidden = true
  joinForm.hidden = false
  document.body.classList.remove('chatting')
})

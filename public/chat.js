// Chat over Herald's WebSocket protocol (JSON messages with a "type"; see the README):
//   → {type: "subscribe", topics: [...], ref}     ← {type: "subscribed", ref}
//   → {type: "publish", topic, event, data}        ← {type: "event", topic, id, event, data}
// Topics: chat/room/<room> (messages, join/leave, and the server's "presence" roster) and
// chat/user/<name> (direct messages: only that user's page subscribes to it).
const $ = (id) => document.getElementById(id)
const joinForm = $('join-form')
const chat = $('chat')
const messages = $('messages')
const online = $('online')
const to = $('to')
const text = $('text')
const status = $('status')

const params = new URLSearchParams(location.search)
$('name').value = params.get('name') ?? localStorage.getItem('herald-chat-name') ?? `guest-${Math.floor(Math.random() * 900) + 100}`
$('room').value = params.get('room') ?? 'lobby'

let me = ''
let room = ''
let socket
let roster = []
let retryMs = 500
let leaving = false

const roomTopic = (name) => `chat/room/${name}`
const userTopic = (name) => `chat/user/${name}`

function send(message) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message))
}

function setStatus(state, label) {
  status.dataset.state = state
  status.textContent = label
}

/** Appends a line; every piece of user text goes in as textContent, never as HTML. */
function line(className, parts) {
  const item = document.createElement('li')
  if (className) item.className = className
  for (const [kind, value] of parts) {
    const span = document.createElement('span')
    span.className = kind
    span.textContent = value
    item.append(span)
  }
  const atBottom = messages.scrollTop + messages.clientHeight >= messages.scrollHeight - 8
  messages.append(item)
  if (atBottom) messages.scrollTop = messages.scrollHeight
}

function showRoster(users) {
  const before = new Set(roster)
  const after = new Set(users)
  // The first roster after joining just lists who is here; later ones announce arrivals and departures.
  if (roster.length > 0) {
    for (const user of users) if (!before.has(user) && user !== me) line('system', [['', `${user} joined`]])
    for (const user of roster) if (!after.has(user) && user !== me) line('system', [['', `${user} left`]])
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

function onServerMessage(message) {
  if (message.type === 'subscribed' && message.ref === 'join') {
    retryMs = 500
    setStatus('open', 'Connected')
    send({ type: 'publish', topic: roomTopic(room), event: 'join', data: { user: me } })
  } else if (message.type === 'error') {
    line('system', [['', `Error: ${message.message}`]])
  } else if (message.type === 'event' && message.topic === roomTopic(room)) {
    // "message" is SSE's default event name, so Herald leaves it out of the frame.
    const name = message.event ?? 'message'
    if (name === 'presence') showRoster(message.data.users)
    else if (name === 'message') line('', [['from', `${message.data.from}: `], ['text', message.data.text]])
  } else if (message.type === 'event' && message.topic === userTopic(me) && message.event === 'direct') {
    line('direct', [['tag', 'direct'], ['from', `${message.data.from}: `], ['text', message.data.text]])
  }
}

function connect() {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
  socket = new WebSocket(url)
  socket.addEventListener('open', () => send({ type: 'subscribe', topics: [roomTopic(room), userTopic(me)], ref: 'join' }))
  socket.addEventListener('message', (event) => onServerMessage(JSON.parse(event.data)))
  socket.addEventListener('close', () => {
    if (leaving) return
    setStatus('connecting', 'Reconnecting…')
    setTimeout(connect, retryMs)
    retryMs = Math.min(retryMs * 2, 10_000)
  })
}

joinForm.addEventListener('submit', (event) => {
  event.preventDefault()
  me = $('name').value.trim()
  room = $('room').value.trim()
  localStorage.setItem('herald-chat-name', me)
  leaving = false
  roster = []
  messages.replaceChildren()
  $('room-title').textContent = `#${room} · you are ${me}`
  joinForm.hidden = true
  chat.hidden = false
  connect()
  text.focus()
})

$('composer').addEventListener('submit', (event) => {
  event.preventDefault()
  const body = text.value.trim()
  if (!body) return
  if (to.value) {
    send({ type: 'publish', topic: userTopic(to.value), event: 'direct', data: { from: me, to: to.value, text: body } })
    // The sender does not subscribe to the recipient's topic, so it shows its own copy.
    line('direct', [['tag', `to ${to.value}`], ['from', `${me}: `], ['text', body]])
  } else {
    send({ type: 'publish', topic: roomTopic(room), event: 'message', data: { from: me, text: body } })
  }
  text.value = ''
})

$('leave-button').addEventListener('click', () => {
  leaving = true
  send({ type: 'publish', topic: roomTopic(room), event: 'leave', data: { user: me } })
  socket?.close()
  chat.hidden = true
  joinForm.hidden = false
})

import { POST_MAX_CHARS } from './form'
import { type Html, html } from './html'
import type { Post } from './store'

/** What the post form shows: text to put back in the textarea and an error to explain. */
export interface FormState {
  text?: string
  error?: string
  /** Put the cursor in the textarea (after a successful post, so the next one can be typed at once). */
  autofocus?: boolean
}

/** Everything the feed page shows. */
export interface FeedView {
  user: string
  posts: readonly Post[]
  /** The SSE URL the page subscribes to (with the resume position at render time). */
  streamUrl: string
  form?: FormState
}

/**
 * htmx settings. `responseHandling` makes it swap 4xx responses and 503 (the form with its error)
 * instead of ignoring them, as htmx 2 does by default; other 5xx only raise an error event. Swapped
 * markup may not run code: no eval (hx-on, js: values) and no <script> tags (the page's CSP agrees).
 */
const HTMX_CONFIG = JSON.stringify({
  allowEval: false,
  allowScriptTags: false,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '4..', swap: true, error: false },
    { code: '503', swap: true, error: false },
    { code: '...', swap: false, error: true },
  ],
})

/**
 * A post's time: UTC in the markup (what a page without JavaScript shows), which public/feed.js
 * rewrites in the viewer's time zone on load and after every swap. feed.js also checks updates
 * against this exact shape, so change both together.
 */
function time(at: string): Html {
  return html`<time datetime="${at}" title="${at}">${at.slice(11, 16)} UTC</time>`
}

/** One post; the `id` lets idiomorph match it across updates instead of rebuilding the list. public/feed.js accepts exactly this shape. */
export function postItem(post: Post): Html {
  return html`<li class="post" id="post-${post.id}" data-author="${post.author}"><div class="post-meta"><strong class="author">${post.author}</strong> ${time(post.at)}</div><p class="post-text">${post.text}</p></li>`
}

/** The list's content: what the page renders and what every SSE `posts` event carries. */
export function postItems(posts: readonly Post[]): Html {
  return html`${posts.map((post) => html`${postItem(post)}\n`)}`
}

/** The form (swapped whole after each htmx post: empty after success, with the error and the text after a refusal). */
export function postForm(state: FormState = {}): Html {
  const invalid = state.error !== undefined
  return html`<form id="post-form" class="card post-form" method="post" action="/feed/posts" hx-post="/feed/posts" hx-swap="outerHTML" hx-disabled-elt="find button">
  <label for="message">Message <span class="hint">up to ${POST_MAX_CHARS} characters</span></label>
  <textarea id="message" name="message" rows="3" required placeholder="What is happening?"${invalid ? html` aria-invalid="true" aria-describedby="message-error"` : ''}${state.autofocus || invalid ? html` autofocus` : ''}>${state.text ?? ''}</textarea>
  ${invalid ? html`<p id="message-error" class="form-error" role="alert">${state.error}</p>` : ''}
  <div class="form-actions"><button type="submit">Post</button></div>
</form>`
}

/**
 * The whole page. A `posts` event is received by #feed-updates (sse-swap) and swapped into #posts,
 * which sits inside an `hx-disable` container: htmx never processes `hx-*` attributes in what is
 * swapped there, so even markup that got past every other check (the topic is server-owned,
 * public/feed.js refuses anything but the server's exact markup) could not make the viewer's
 * browser send a request. The swap element cannot be inside it: `hx-disable` would turn off its
 * own `sse-swap` too.
 */
export function feedPage(view: FeedView): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content="${HTMX_CONFIG}">
<title>Live feed · Herald</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/herald.css">
<style>.post[data-author="${view.user}"] { border-left-color: var(--accent); } .post[data-author="${view.user}"] .author::after { content: " (you)"; font-weight: normal; color: var(--muted); }</style>
<script src="/vendor/htmx.min.js" defer></script>
<script src="/vendor/htmx-ext-sse.js" defer></script>
<script src="/vendor/idiomorph-ext.min.js" defer></script>
<script src="/assets/feed.js" defer></script>
</head>
<body hx-ext="morph">
<header class="site-header"><nav class="container"><a class="brand" href="/">Herald</a><a href="/heartbeat.html">Heartbeat</a><a href="/feed" aria-current="page">Feed</a><a href="/chat.html">Chat</a><a href="/swagger">API</a></nav></header>
<main class="container narrow">
<h1>Live feed</h1>
<p class="lede">You are <strong id="me">${view.user}</strong>. Open this page in a second window: a post made in one shows up in the other at once, over Server-Sent Events, and what you are typing stays put.</p>
${postForm(view.form)}
<section class="feed" hx-ext="sse" sse-connect="${view.streamUrl}">
<div class="row feed-head"><h2>Posts</h2><span id="feed-status" class="status" data-state="connecting">Connecting…</span></div>
<div id="feed-updates" sse-swap="posts" hx-target="#posts" hx-swap="morph:innerHTML" hidden></div>
<div hx-disable>
<ol id="posts" class="posts">${postItems(view.posts)}</ol>
<p class="empty">No posts yet. Write the first one above: it appears here, and in every other open window, at once.</p>
</div>
</section>
</main>
</body>
</html>
`
}

/**
 * The chat directory's Redis scripts (see cluster-directory.ts for the data and its rules). Each
 * runs atomically in Redis, in Redis's clock, so nodes never race on a name or a roster and their
 * clocks do not matter. ARGV[1] is always the chat's key prefix (`<prefix>:chat:`): rooms, users
 * and nodes are one safe segment each (checked names, generated ids).
 *
 * A claim is JSON `{key, at, seen, node, n, cn}`: `at` when it was last claimed (ms), `seen` once
 * its page was seen connected since, `node` the node its page is connected to ('' = none known),
 * `n` how many times this key claimed it in a row, `cn` the `n` its node found it at. It holds its
 * name while that node is alive, or, not seen, for `grace` ms after `at`.
 *
 * Every claim is also listed in `pending` for `grace` ms, so that whichever node the page's socket
 * reaches finds it there (a page reconnecting through another node claims again first). A claim
 * claimed again after its node found it (`n > cn`: a reconnect, maybe to another node)
 * whose node then loses it (gone from there, or the node died) keeps its rooms and waits for its
 * page for the rest of its grace; a page that does not show up anywhere by then goes offline.
 */

/** Shared by every script: KEYS[1] claims, KEYS[2] pending, KEYS[3] nodes (membership), KEYS[4] chat nodes, KEYS[5] version. */
const PRELUDE = `
local pfx = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function alive(node)
  if node == nil or node == '' then return false end
  local expires = redis.call('ZSCORE', KEYS[3], node)
  return expires ~= false and tonumber(expires) >= now
end
local function holds(claim, grace)
  return alive(claim.node) or (not claim.seen and now - claim.at < grace)
end
local function get(name)
  local raw = redis.call('HGET', KEYS[1], name)
  if raw then return cjson.decode(raw) end
  return nil
end
local function put(name, claim)
  redis.call('HSET', KEYS[1], name, cjson.encode(claim))
end
-- A roster version: Redis time in microseconds, strictly increasing (pages keep the newest roster).
local function version()
  local last = tonumber(redis.call('GET', KEYS[5]) or '0')
  local v = math.max(now * 1000, last + 1)
  redis.call('SET', KEYS[5], v)
  return v
end
-- Takes an offline user out of every room; marks the rooms whose roster changed.
local function offline(name, changed)
  local rooms = pfx .. 'user:' .. name
  for _, room in ipairs(redis.call('SMEMBERS', rooms)) do
    if redis.call('SREM', pfx .. 'room:' .. room, name) == 1 then changed[room] = true end
  end
  redis.call('DEL', rooms)
end
local function roster(room)
  return { room, version(), redis.call('SMEMBERS', pfx .. 'room:' .. room) }
end
local function rosters(changed)
  local out = {}
  for room in pairs(changed) do table.insert(out, roster(room)) end
  return out
end
-- The claim's node lost its page (gone from there, or the node died). Claimed again since that node
-- found it, and within its grace: a reconnect, maybe through another node; it keeps its rooms and
-- waits for its page (pending). Otherwise the user is offline.
local function lose(name, claim, grace, changed)
  if claim.node ~= '' then redis.call('SREM', pfx .. 'node:' .. claim.node, name) end
  claim.node = ''
  if (claim.n or 1) > (claim.cn or 0) and now - claim.at < grace then
    claim.seen = false
  else
    offline(name, changed)
  end
end
`

/**
 * ARGV: pfx, name, key, grace ms, max names, this node's id when the key's page is connected to it
 * ('' otherwise). Returns `{status, rosters}`: status `ok`, `taken` or `full`; rosters changed
 * (a previous holder whose node died left its rooms).
 */
export const CLAIM = `${PRELUDE}
local name, key, grace, max, here = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local changed = {}
local current = get(name)
if current and current.key ~= key and holds(current, grace) then return { 'taken', {} } end
if not current and redis.call('HLEN', KEYS[1]) >= max then
  -- Forget the names whose holder is gone, then count again.
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    local claim = cjson.decode(all[i + 1])
    if not holds(claim, grace) then
      if claim.node ~= '' then redis.call('SREM', pfx .. 'node:' .. claim.node, all[i]) end
      offline(all[i], changed)
      redis.call('HDEL', KEYS[1], all[i])
      redis.call('ZREM', KEYS[2], all[i])
    end
  end
  if redis.call('HLEN', KEYS[1]) >= max then return { 'full', rosters(changed) } end
end
local claim = { key = key, at = now, seen = false, node = '', n = 1, cn = 0 }
if current then
  if current.key == key and alive(current.node) then
    -- The same page claiming again (a token refresh, or a reconnect through another node): it keeps
    -- its connection and rooms; if its page is now elsewhere, that node finds it (pending).
    claim.node = current.node
    claim.seen = true
    claim.n = (current.n or 1) + 1
    claim.cn = current.cn or 0
  else
    -- Another page takes the name (its holder is gone), or the same page after its node died.
    if current.node ~= '' then redis.call('SREM', pfx .. 'node:' .. current.node, name) end
    offline(name, changed)
  end
end
if here ~= '' then
  -- Connected to the claiming node now. Already its node: a claim again (it keeps when it was found,
  -- so a socket elsewhere is still looked for); else found now.
  if claim.node ~= here then
    if claim.node ~= '' then redis.call('SREM', pfx .. 'node:' .. claim.node, name) end
    claim.node = here
    claim.cn = claim.n
  end
  claim.seen = true
  redis.call('SADD', pfx .. 'node:' .. here, name)
  redis.call('SADD', KEYS[4], here)
end
-- Listed for the grace, whatever: the page's socket may be on another node (a reconnect).
redis.call('ZADD', KEYS[2], now, name)
put(name, claim)
return { 'ok', rosters(changed) }
`

/** A node found `key`'s page connected to it. ARGV: pfx, name, key, node. Returns 1 when the claim is this node's, 0 when `key` does not hold the name. */
export const CONFIRM = `${PRELUDE}
local name, key, node = ARGV[2], ARGV[3], ARGV[4]
local claim = get(name)
if not claim or claim.key ~= key then return 0 end
if claim.node == node then return 1 end
-- Moved from another node (a reconnect): its rooms stay, it is online all along.
if claim.node ~= '' then redis.call('SREM', pfx .. 'node:' .. claim.node, name) end
claim.node = node
claim.seen = true
claim.cn = claim.n or 1
put(name, claim)
redis.call('SADD', pfx .. 'node:' .. node, name)
redis.call('SADD', KEYS[4], node)
return 1
`

/** `key`'s page is no longer connected to `node`. ARGV: pfx, name, key, node, grace ms. Returns the rosters that changed. */
export const DISCONNECT = `${PRELUDE}
local name, key, node, grace = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
redis.call('SREM', pfx .. 'node:' .. node, name)
local claim = get(name)
if not claim or claim.key ~= key or claim.node ~= node then return {} end
local changed = {}
lose(name, claim, grace, changed)
put(name, claim)
return rosters(changed)
`

/** ARGV: pfx, name, room. Returns `{version, users}` once the user is in the room, or 0 when their page is not connected. */
export const JOIN = `${PRELUDE}
local name, room = ARGV[2], ARGV[3]
local claim = get(name)
if not claim or not alive(claim.node) then return 0 end
redis.call('SADD', pfx .. 'room:' .. room, name)
redis.call('SADD', pfx .. 'user:' .. name, room)
local r = roster(room)
return { r[2], r[3] }
`

/** ARGV: pfx, name, room. Returns `{version, users}` when the user was in the room, else `{0, users}`. */
export const LEAVE = `${PRELUDE}
local name, room = ARGV[2], ARGV[3]
if redis.call('SREM', pfx .. 'room:' .. room, name) == 0 then return { 0, redis.call('SMEMBERS', pfx .. 'room:' .. room) } end
redis.call('SREM', pfx .. 'user:' .. name, room)
local r = roster(room)
return { r[2], r[3] }
`

/**
 * Every node, every scan: the claims made in the last `grace` ms, for the node their page's socket
 * reached to find; the claims past their grace whose page never showed up, taken offline; and the
 * users of nodes that died, lost (once: the first node to scan after a node's membership ran out
 * does it). ARGV: pfx, grace ms. Returns `{pending, rosters}`, pending as `[name, key, node, …]`.
 */
export const SCAN = `${PRELUDE}
local grace = tonumber(ARGV[2])
local changed = {}
for _, name in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - grace))) do
  local claim = get(name)
  if claim and claim.node == '' then offline(name, changed) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - grace))
local pending = {}
for _, name in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local claim = get(name)
  if claim then
    table.insert(pending, name)
    table.insert(pending, claim.key)
    table.insert(pending, claim.node)
  else
    redis.call('ZREM', KEYS[2], name)
  end
end
for _, node in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  if not alive(node) then
    for _, name in ipairs(redis.call('SMEMBERS', pfx .. 'node:' .. node)) do
      local claim = get(name)
      if claim and claim.node == node then
        lose(name, claim, grace, changed)
        put(name, claim)
      end
    end
    redis.call('DEL', pfx .. 'node:' .. node)
    redis.call('SREM', KEYS[4], node)
  end
end
return { pending, rosters(changed) }
`

/**
 * The Lua scripts Herald runs in Redis. Each one is atomic (Redis runs one script at a time), so a
 * publish's id check, its writes to the cluster log and to its topics' histories, and retention
 * happen all together or not at all. Scripts are sent with EVALSHA (EVAL once after a NOSCRIPT).
 *
 * Keys, for a prefix P (one Herald cluster; several clusters may share a Redis with other prefixes):
 * - `P:meta`    hash: `epoch` (changes when Redis lost its data), `floor` (resume positions before it
 *                cannot be served), `last` (the newest id written), `n` (publish counter for the
 *                topic LRU), `events` (events held in topic histories)
 * - `P:log`     stream: every event of every topic, ids = Herald's event ids; each node reads it
 *                (XREAD BLOCK) and delivers what it reads. Fields: `t` topic, `d` data, `j` JSON flag,
 *                `tm` publish time, `e` event name, `p` private, `prev` the previous log id, `ep` epoch.
 *                Trimmed to --redis-log entries (exact MAXLEN), never below the batch being
 *                written (a node in step can always read a whole batch).
 * - `P:t:TOPIC` stream per topic: its history (the same ids and fields but `t`, `prev`, `ep`), trimmed
 *                to --history entries.
 * - `P:topics`  sorted set topic → publish counter: least recently published first (--history-topics).
 * - `P:marks`   hash topic → the newest id retention removed from it (a resume before it has a gap).
 * - `P:oldest`  sorted set topic → publish time of its oldest held event (for --history-ttl).
 *
 * Keys are built inside the scripts from the prefix, so this needs one Redis (or a primary with
 * replicas), not Redis Cluster. Ids are handled as two Lua numbers (exact up to 2^53 - 1, the id
 * space) and written with `%.0f`, never with tostring (which would write 1.7e+12).
 */

/** A script and the SHA1 EVALSHA names it by. */
export interface LuaScript {
  readonly name: string
  readonly source: string
  readonly sha: string
}

const COMMON = `
local MAXP = 9007199254740991
local P = ARGV[1]
local META, LOG, TOPICS, MARKS, OLDEST = P .. ':meta', P .. ':log', P .. ':topics', P .. ':marks', P .. ':oldest'
local function parse(s) local a, b = string.match(s, '^(%d+)%-(%d+)$'); return {tonumber(a), tonumber(b)} end
local function fmt(id) return string.format('%.0f-%.0f', id[1], id[2]) end
local function cmp(a, b)
  if a[1] ~= b[1] then if a[1] < b[1] then return -1 else return 1 end end
  if a[2] ~= b[2] then if a[2] < b[2] then return -1 else return 1 end end
  return 0
end
local function maxid(a, b) if cmp(a, b) >= 0 then return a end return b end
local function succ(id)
  if id[2] < MAXP then return {id[1], id[2] + 1} end
  if id[1] < MAXP then return {id[1] + 1, 0} end
  return nil
end
local function field(fields, name)
  for i = 1, #fields, 2 do if fields[i] == name then return fields[i + 1] end end
  return nil
end
local function topicKey(topic) return P .. ':t:' .. topic end
`

function script(name: string, body: string): LuaScript {
  const source = `${COMMON}\n${body}`
  return { name, source, sha: new Bun.CryptoHasher('sha1').update(source).digest('hex') }
}

/**
 * OPEN(P, epochCandidate, floorIfNew) → {created 0|1, epoch, floor, last}. Creates the cluster's
 * meta when Redis holds none (a new cluster, or Redis lost its data): a new epoch, and a floor of
 * `floorIfNew` (raised past a log left without its meta).
 */
export const OPEN = script(
  'open',
  `
local m = redis.call('HMGET', META, 'epoch', 'floor', 'last')
if m[1] then return {0, m[1], m[2], m[3]} end
local floor = parse(ARGV[3])
local top = redis.call('XREVRANGE', LOG, '+', '-', 'COUNT', 1)[1]
if top then floor = maxid(floor, parse(top[1])) end
redis.call('HSET', META, 'epoch', ARGV[2], 'floor', fmt(floor), 'last', fmt(floor), 'n', 0, 'events', 0)
return {1, ARGV[2], fmt(floor), fmt(floor)}
`,
)

/**
 * RESET(P, expectedEpoch, epochCandidate, floorAtLeast) → {changed 0|1, epoch, floor, last}. Starts a
 * new epoch when Redis came back with less than a node had read (an older snapshot): every node
 * then sends its clients to resume, and positions below the raised floor get `reset`. A no-op when
 * another node already did it (the epoch is no longer the expected one).
 */
export const RESET = script(
  'reset',
  `
local m = redis.call('HMGET', META, 'epoch', 'floor', 'last')
if m[1] ~= ARGV[2] then return {0, m[1] or '', m[2] or '', m[3] or ''} end
local floor = maxid(parse(m[2]), parse(ARGV[4]))
redis.call('HSET', META, 'epoch', ARGV[3], 'floor', fmt(floor))
return {1, ARGV[3], fmt(floor), m[3]}
`,
)

/**
 * RAISE(P, epoch, id) → {epoch, floor, last}. A node that saw ids up to `id` before adopting a new
 * epoch raises the floor to it: new ids come after everything that node delivered, and resumes
 * from before it get `reset`.
 */
export const RAISE = script(
  'raise',
  `
local m = redis.call('HMGET', META, 'epoch', 'floor', 'last')
if m[1] == ARGV[2] then
  local floor = maxid(parse(m[2]), parse(ARGV[3]))
  redis.call('HSET', META, 'floor', fmt(floor))
  return {m[1], fmt(floor), m[3]}
end
return {m[1] or '', m[2] or '', m[3] or ''}
`,
)

/** Values per event in APPEND's arguments, after the 11 fixed ones. */
export const APPEND_FIELDS = 7

/**
 * APPEND(P, mode, now, skew, minId, floorIfNew, epochCandidate, perTopic, maxTopics, logSize, count,
 * then per event: id ('' = assign), topic, name ('' = message), data, json '1'|'0', private '1'|'',
 * time) → {1, epoch, last, events, topics, id...} or {0, code, id, other} having written nothing.
 *
 * `mode` `publish` checks publisher ids against the clock (`now`, '' = Redis's TIME) within `skew`;
 * `append` (a store's append: ids already given) does not. Every id must be newer than the last one
 * written, the floor and `minId` (the newest id the calling node has seen, so ids never go back
 * even after Redis lost its data). Assigned ids: the clock's millisecond with sequence 0, or the
 * successor of the newest id when the clock is not past it.
 */
export const APPEND = script(
  'append',
  `
local mode, skew, perTopic, maxTopics, logSize, count = ARGV[2], tonumber(ARGV[4]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local now
if ARGV[3] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[3])
end
local minId = parse(ARGV[5])
local m = redis.call('HMGET', META, 'epoch', 'floor', 'last', 'n')
local epoch, floor, last = m[1], nil, nil
local n = tonumber(m[4] or '0')
if epoch then
  floor, last = parse(m[2]), parse(m[3])
else
  epoch = ARGV[7]
  floor = maxid(parse(ARGV[6]), minId)
  local top = redis.call('XREVRANGE', LOG, '+', '-', 'COUNT', 1)[1]
  if top then floor = maxid(floor, parse(top[1])) end
  last = floor
  redis.call('HSET', META, 'epoch', epoch, 'floor', fmt(floor), 'last', fmt(last), 'n', 0, 'events', 0)
end
local base = maxid(maxid(last, floor), minId)
local ids = {}
for i = 1, count do
  local given = ARGV[12 + (i - 1) * 7]
  local id
  if given == '' then
    if now > base[1] then id = {now, 0} else id = succ(base) end
    if not id then return {0, 'exhausted', fmt(base), ''} end
  else
    id = parse(given)
    if cmp(id, base) <= 0 then return {0, 'id_not_increasing', given, fmt(base)} end
    if mode == 'publish' and math.abs(id[1] - now) > skew then return {0, 'invalid_id', given, string.format('%.0f', now)} end
  end
  ids[i] = id
  base = id
end
local delta = 0
local prev = fmt(last)
local out = {1, epoch, '', 0, 0}
for i = 1, count do
  local o = 12 + (i - 1) * 7
  local idText = fmt(ids[i])
  local topic, name, data, json, private, time = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4], ARGV[o + 5], ARGV[o + 6]
  local f = {'d', data, 'j', json, 'tm', time}
  if name ~= '' then f[#f + 1] = 'e'; f[#f + 1] = name end
  if private == '1' then f[#f + 1] = 'p'; f[#f + 1] = '1' end
  redis.call('XADD', LOG, 'MAXLEN', math.max(logSize, count), idText, 't', topic, 'prev', prev, 'ep', epoch, unpack(f))
  prev = idText
  local key = topicKey(topic)
  n = n + 1
  local added = redis.call('ZADD', TOPICS, n, topic)
  if added == 1 and redis.call('ZCARD', TOPICS) > maxTopics then
    -- The least recently published topic goes whole; positions up to its newest id lose their proof.
    local victim = redis.call('ZRANGE', TOPICS, 0, 0)[1]
    local victimKey = topicKey(victim)
    local newest = redis.call('XREVRANGE', victimKey, '+', '-', 'COUNT', 1)[1]
    local through = nil
    if newest then through = parse(newest[1]) else
      local mark = redis.call('HGET', MARKS, victim)
      if mark then through = parse(mark) end
    end
    if through then floor = maxid(floor, through) end
    delta = delta - redis.call('XLEN', victimKey)
    redis.call('DEL', victimKey)
    redis.call('HDEL', MARKS, victim)
    redis.call('ZREM', TOPICS, victim)
    redis.call('ZREM', OLDEST, victim)
  end
  local length = redis.call('XLEN', key)
  if length >= perTopic then
    local over = length - perTopic + 1
    local front = redis.call('XRANGE', key, '-', '+', 'COUNT', over + 1)
    local mark = front[over][1]
    redis.call('HSET', MARKS, topic, mark)
    redis.call('XTRIM', key, 'MINID', fmt(succ(parse(mark))))
    delta = delta - over
    local rest = front[over + 1]
    if rest then redis.call('ZADD', OLDEST, field(rest[2], 'tm'), topic) else redis.call('ZADD', OLDEST, time, topic) end
  elseif length == 0 then
    redis.call('ZADD', OLDEST, time, topic)
  end
  redis.call('XADD', key, idText, unpack(f))
  delta = delta + 1
  out[#out + 1] = idText
end
redis.call('HSET', META, 'last', prev, 'floor', fmt(floor), 'n', string.format('%.0f', n))
out[3] = prev
out[4] = redis.call('HINCRBY', META, 'events', delta)
out[5] = redis.call('ZCARD', TOPICS)
return out
`,
)

/**
 * SNAPSHOT(P, after, mode, size, epoch, bound, cursor, topics...) → the start of a resume:
 * - {'none'} when Redis holds no Herald data for P; {'epoch'} (mode `more`) when the epoch is not `epoch`;
 * - {'gap', epoch, bound, floor} when something after `after` is gone: `after` is below the floor,
 *   or (mode `named`) a named topic's mark is past it;
 * - mode `named`, atomic: {'ok', epoch, bound, floor, inline 0|1, ...} with, per named topic, the
 *   id of its first event in (after, bound] ('' = none); or, inline 1 when all of them fit in `size`,
 *   per topic the list of those events. `bound` is the newest id written.
 * - mode `all` (atomic, fixes `bound`) and `more` (later batches, with the `bound` and `cursor` given):
 *   {'ok', epoch, bound, floor, cursor, then per topic: name, first id or '', '1' when its mark is past
 *   `after`}, for up to `size` topics in publish-counter order after `cursor` ('' = from the start);
 *   the returned cursor is '' when no topic is left. Counters only grow, so a topic dropped or
 *   published meanwhile shifts no other; one dropped meanwhile has raised the floor (a gap).
 */
export const SNAPSHOT = script(
  'snapshot',
  `
local m = redis.call('HMGET', META, 'epoch', 'floor', 'last')
if not m[1] then return {'none'} end
local mode, after, size = ARGV[3], parse(ARGV[2]), tonumber(ARGV[4])
local epoch, floor, bound = m[1], parse(m[2]), parse(m[3])
if mode == 'more' then
  if ARGV[5] ~= epoch then return {'epoch'} end
  bound = parse(ARGV[6])
end
if cmp(after, floor) < 0 then return {'gap', epoch, fmt(bound), fmt(floor)} end
local out = {'ok', epoch, fmt(bound), fmt(floor), 0}
if cmp(after, bound) >= 0 then
  if mode ~= 'named' then out[5] = '' end
  return out
end
local from, to = '(' .. ARGV[2], fmt(bound)
local function first(topic)
  local entry = redis.call('XRANGE', topicKey(topic), from, to, 'COUNT', 1)[1]
  if entry then return entry[1] end
  return ''
end
local function gone(topic)
  local mark = redis.call('HGET', MARKS, topic)
  return mark and cmp(parse(mark), after) > 0
end
if mode ~= 'named' then
  local min = '-inf'
  if mode == 'more' then min = '(' .. ARGV[7] end
  local found = redis.call('ZRANGEBYSCORE', TOPICS, min, '+inf', 'WITHSCORES', 'LIMIT', 0, size)
  out[5] = ''
  if #found == 2 * size then out[5] = found[#found] end
  for i = 1, #found, 2 do
    local topic = found[i]
    local flag = ''
    if gone(topic) then flag = '1' end
    out[#out + 1] = topic
    out[#out + 1] = first(topic)
    out[#out + 1] = flag
  end
  return out
end
local firsts = {}
for i = 8, #ARGV do
  if gone(ARGV[i]) then return {'gap', epoch, fmt(bound), fmt(floor)} end
  firsts[#firsts + 1] = first(ARGV[i])
end
if size > 0 then
  local lists, total = {}, 0
  for i = 8, #ARGV do
    local entries = {}
    if firsts[i - 7] ~= '' then
      entries = redis.call('XRANGE', topicKey(ARGV[i]), from, to, 'COUNT', size - total + 1)
      total = total + #entries
    end
    if total > size then lists = nil; break end
    lists[#lists + 1] = entries
  end
  if lists then
    out[5] = 1
    for i = 1, #lists do out[#out + 1] = lists[i] end
    return out
  end
end
for i = 1, #firsts do out[#out + 1] = firsts[i] end
return out
`,
)

/**
 * FETCH(P, epoch, bound, then per topic: topic, from, count) → {'ok', entries...} (each XRANGE
 * topic from bound COUNT count), or {'epoch'} when the epoch changed.
 */
export const FETCH = script(
  'fetch',
  `
if redis.call('HGET', META, 'epoch') ~= ARGV[2] then return {'epoch'} end
local out = {'ok'}
for i = 4, #ARGV, 3 do out[#out + 1] = redis.call('XRANGE', topicKey(ARGV[i]), ARGV[i + 1], ARGV[3], 'COUNT', ARGV[i + 2]) end
return out
`,
)

/**
 * EXPIRE(P, cutoff, step) → {more 0|1, events, topics}. Drops, oldest first, the events published
 * before `cutoff` (ms), at most `step` of them, stopping in each topic at its first event that is
 * not expired; records each topic's mark.
 */
export const EXPIRE = script(
  'expire',
  `
if not redis.call('HGET', META, 'epoch') then return {0, 0, 0} end
local cutoff, step = tonumber(ARGV[2]), tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', OLDEST, '-inf', '(' .. ARGV[2], 'LIMIT', 0, step)
local dropped, more = 0, 0
if #due == step then more = 1 end
for _, topic in ipairs(due) do
  local budget = step - dropped
  if budget <= 0 then more = 1; break end
  local key = topicKey(topic)
  local entries = redis.call('XRANGE', key, '-', '+', 'COUNT', budget + 1)
  local n, through, nextTime = 0, nil, nil
  for _, entry in ipairs(entries) do
    local time = tonumber(field(entry[2], 'tm'))
    if time < cutoff and n < budget then
      n = n + 1
      through = entry[1]
    else
      nextTime = time
      break
    end
  end
  if n > 0 then
    redis.call('HSET', MARKS, topic, through)
    redis.call('XTRIM', key, 'MINID', fmt(succ(parse(through))))
    dropped = dropped + n
  end
  if nextTime then
    if nextTime < cutoff then more = 1 end
    redis.call('ZADD', OLDEST, nextTime, topic)
  else
    redis.call('ZREM', OLDEST, topic)
  end
end
local events = redis.call('HINCRBY', META, 'events', 0 - dropped)
return {more, events, redis.call('ZCARD', TOPICS)}
`,
)

/** STATS(P) → {epoch, events, topics, last, floor} ('' and 0 when Redis holds nothing for P). */
export const STATS = script(
  'stats',
  `
local m = redis.call('HMGET', META, 'epoch', 'events', 'last', 'floor')
return {m[1] or '', tonumber(m[2] or '0'), redis.call('ZCARD', TOPICS), m[3] or '', m[4] or ''}
`,
)

package redisoutbox

import "github.com/redis/go-redis/v9"

// The scripts run atomically in Redis (EVALSHA, falling back to EVAL when
// the server does not have them cached: go-redis's Script). Each one
// checks what could fail before its first write, so that an error leaves
// nothing half done, and under maxmemory an out-of-memory refusal comes at
// the first write, before anything changed.
//
// Every key of a prefix shares the hash tag {prefix}, so one prefix lives
// in one Cluster slot; the scripts build a pair's key names from ARGV[1]
// (the tagged base) and the pair's member.
//
// KEYS, the same for every script: 1 seq (record and dead-letter ID
// counter), 2 n (queued records), 3 due (ZSET of pairs by when they are
// due, in the callers' Unix milliseconds: a pair's not-before, or its
// lease's expiry while leased), 4 old (ZSET of the pairs that hold records,
// by their oldest record's StoredAt), 5 dz (ZSET of dead-letter IDs in the
// order they died), 6 dh (hash of dead letters by ID).
//
// A pair's records are the list base..":q:"..member; its lease the string
// base..":l:"..member, holding the lease's token, with a PX expiry; an
// Append's batch ID the string base..":b:"..id, for ten minutes.

// luaHelpers are the functions the scripts share: a record element's ID and
// StoredAt, a type check before the first write, and the bookkeeping after
// records left the head of a pair's list.
const luaHelpers = `
local function recid(e) return string.match(e, '^.(%d+)|') end
local function recat(e) return string.match(e, '^.%d+|(-?%d+)|') end
local function checklist(k)
  local t = redis.call('TYPE', k).ok
  if t ~= 'none' and t ~= 'list' then return redis.error_reply('WRONGTYPE ' .. k .. ' is a ' .. t .. ', not a list') end
  return nil
end
-- the counters seq and n must hold integers (or nothing) before the
-- first write: INCR on another program's value fails part way through
local function checkcounters()
  for _, k in ipairs({KEYS[1], KEYS[2]}) do
    local t = redis.call('TYPE', k).ok
    if t ~= 'none' and (t ~= 'string' or not tonumber(redis.call('GET', k))) then
      return redis.error_reply('ERR ' .. k .. ' is not a counter')
    end
  end
  return nil
end
-- after records left the head of q: the pair's place in old, and n
local function popped(q, m, k)
  if k == 0 then return end
  redis.call('DECRBY', KEYS[2], k)
  local h = redis.call('LINDEX', q, 0)
  if h then redis.call('ZADD', KEYS[4], recat(h), m) else redis.call('ZREM', KEYS[4], m) end
end
`

// appendScript: ARGV base, k, batch ID, then k triples (member, StoredAt
// ns, body). A pair that had no records becomes due at once unless it is
// scheduled (a not-before kept from its last request, or a lease): ZADD
// NX. The batch ID makes the script idempotent for ten minutes: go-redis
// sends a command again when the connection broke before the answer
// (EOF), and the first run may have stored the batch.
var appendScript = redis.NewScript(luaHelpers + `
local base, k = ARGV[1], tonumber(ARGV[2])
local cerr = checkcounters()
if cerr then return cerr end
local seen = {}
for i = 0, k - 1 do
  local m = ARGV[4 + 3 * i]
  if not seen[m] then
    seen[m] = true
    local err = checklist(base .. ':q:' .. m)
    if err then return err end
  end
end
if not redis.call('SET', base .. ':b:' .. ARGV[3], 1, 'NX', 'PX', 600000) then return 0 end
local id = redis.call('INCRBY', KEYS[1], k) - k
for i = 0, k - 1 do
  local m, at, body = ARGV[4 + 3 * i], ARGV[5 + 3 * i], ARGV[6 + 3 * i]
  id = id + 1
  if redis.call('RPUSH', base .. ':q:' .. m, string.format('0%d|%s|%s', id, at, body)) == 1 then
    redis.call('ZADD', KEYS[4], at, m)
    redis.call('ZADD', KEYS[3], 'NX', 0, m)
  end
end
redis.call('INCRBY', KEYS[2], k)
return k
`)

// claimScript: ARGV base, now ms, maxPairs, perPair, ttl ms, token base.
// It visits due pairs only (ZRANGEBYSCORE … LIMIT), and every pair it
// visits leaves the due range (leased: due at the lease's end; empty:
// removed), so the loop ends and costs what the due pairs cost. A pair
// whose lease still holds by Redis's clock (the callers' clocks differ)
// is rescheduled to the lease's end. Returns {{member, token, records}…},
// and the earliest due time left (or -1).
var claimScript = redis.NewScript(luaHelpers + `
local base, now, maxp, perp, ttl, tok = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local out, got = {}, 0
while got < maxp do
  local ms = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[2], 'LIMIT', 0, maxp - got)
  if #ms == 0 then break end
  for _, m in ipairs(ms) do
    local lk = base .. ':l:' .. m
    local left = redis.call('PTTL', lk)
    if left > 0 then
      redis.call('ZADD', KEYS[3], string.format('%d', now + left), m)
    else
      local recs = redis.call('LRANGE', base .. ':q:' .. m, 0, perp - 1)
      if #recs == 0 then
        redis.call('ZREM', KEYS[3], m)
      else
        got = got + 1
        local t = tok .. '.' .. got
        redis.call('SET', lk, t, 'PX', ttl)
        redis.call('ZADD', KEYS[3], string.format('%d', now + ttl), m)
        out[#out + 1] = {m, t, recs}
      end
    end
  end
end
local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
local nxt = '-1'
if #first > 0 then nxt = first[2] end
return {out, nxt}
`)

// markScript: ARGV base, member, token, flag ('1' mark, '0' unmark), IDs.
// Only while the lease holds, and only when the IDs are the head of the
// pair's list in order: all or none. Returns the count, -1 when the lease
// is lost, -2 when the records are no longer the pair's head.
var markScript = redis.NewScript(luaHelpers + `
local base, m = ARGV[1], ARGV[2]
if redis.call('GET', base .. ':l:' .. m) ~= ARGV[3] then return -1 end
local q = base .. ':q:' .. m
local es = redis.call('LRANGE', q, 0, #ARGV - 5)
if #es ~= #ARGV - 4 then return -2 end
for i, e in ipairs(es) do
  if recid(e) ~= ARGV[4 + i] then return -2 end
end
for i, e in ipairs(es) do
  redis.call('LSET', q, i - 1, ARGV[4] .. string.sub(e, 2))
end
return #es
`)

// settleScript ends a lease (Done and DeadLetter): ARGV base, member,
// token, not-before ms, dead-letter meta ("" for Done: delete), IDs. The
// records whose IDs are given leave the head of the list (those another
// claimer already settled are gone: it stops at the first other record),
// deleted or moved to the dead letters. Then, only while the lease is
// still the caller's, the lease ends and the pair is due at not-before;
// an empty pair keeps its place in due, so that the pause holds for its
// next record, and the next Claim past it removes it. Returns {records
// settled, 1 if the lease was held else 0}.
var settleScript = redis.NewScript(luaHelpers + `
local base, m, tok, nb, meta = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local q = base .. ':q:' .. m
local err = checklist(q) or checkcounters()
if err then return err end
local want = {}
for i = 6, #ARGV do want[ARGV[i]] = true end
local k = 0
while true do
  local h = redis.call('LINDEX', q, 0)
  if not h then break end
  local id = recid(h)
  if not id or not want[id] then break end
  redis.call('LPOP', q)
  if meta ~= '' then
    local order = redis.call('INCR', KEYS[1])
    redis.call('HSET', KEYS[6], id, string.len(m) .. ':' .. m .. string.len(meta) .. ':' .. meta .. string.sub(h, 2))
    redis.call('ZADD', KEYS[5], order, id)
  end
  k = k + 1
end
popped(q, m, k)
local lk = base .. ':l:' .. m
if redis.call('GET', lk) ~= tok then return {k, 0} end
redis.call('DEL', lk)
redis.call('ZADD', KEYS[3], nb, m)
return {k, 1}
`)

// requeueScript: ARGV base, dead-letter IDs in order. Each one still there
// is appended to its pair's list with a new ID, unmarked; returns how
// many. It reads and checks every one before its first write, so that a
// malformed dead letter or a key of the wrong type fails it whole.
// purgeScript deletes them instead. The caller sends at most deadPage IDs
// per call: a script blocks Redis while it runs.
var requeueScript = redis.NewScript(luaHelpers + `
local base = ARGV[1]
local cerr = checkcounters()
if cerr then return cerr end
local todo = {}
for i = 2, #ARGV do
  local v = redis.call('HGET', KEYS[6], ARGV[i])
  if v then
    local a = string.find(v, ':', 1, true)
    local ml = a and tonumber(string.sub(v, 1, a - 1))
    if not ml then return redis.error_reply('malformed dead letter ' .. ARGV[i]) end
    local m = string.sub(v, a + 1, a + ml)
    local rest = string.sub(v, a + ml + 1)
    local b = string.find(rest, ':', 1, true)
    local tl = b and tonumber(string.sub(rest, 1, b - 1))
    if not tl then return redis.error_reply('malformed dead letter ' .. ARGV[i]) end
    local rec = string.sub(rest, b + 1 + tl)
    local tail = string.match(rec, '^%d+(|.*)$')
    local at = string.match(rec, '^%d+|(-?%d+)|')
    if not tail or not at then return redis.error_reply('malformed dead letter ' .. ARGV[i]) end
    local q = base .. ':q:' .. m
    local err = checklist(q)
    if err then return err end
    todo[#todo + 1] = {ARGV[i], m, q, tail, at}
  end
end
for _, d in ipairs(todo) do
  local id = redis.call('INCR', KEYS[1])
  if redis.call('RPUSH', d[3], string.format('0%d', id) .. d[4]) == 1 then
    redis.call('ZADD', KEYS[4], d[5], d[2])
    redis.call('ZADD', KEYS[3], 'NX', 0, d[2])
  end
  redis.call('INCR', KEYS[2])
  redis.call('HDEL', KEYS[6], d[1])
  redis.call('ZREM', KEYS[5], d[1])
end
return #todo
`)

var purgeScript = redis.NewScript(`
local gone = 0
for i = 2, #ARGV do
  if redis.call('HDEL', KEYS[6], ARGV[i]) == 1 then
    redis.call('ZREM', KEYS[5], ARGV[i])
    gone = gone + 1
  end
end
return gone
`)

// deadScript returns a page of the dead letters, oldest first: ARGV base,
// the order (score in dz) after which to start, the page's size. Returns
// {the last order read, how many IDs were read, {values}}; fewer IDs than
// asked for means the end. A page at a time, so that Redis is not blocked
// for a million dead letters, and by order, not rank, so that one added or
// removed between pages neither skips nor repeats another.
var deadScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[5], '(' .. ARGV[2], '+inf', 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
local out, last = {}, ARGV[2]
for i = 1, #ids, 2 do
  local v = redis.call('HGET', KEYS[6], ids[i])
  if v then out[#out + 1] = v end
  last = ids[i + 1]
end
return {last, #ids / 2, out}
`)

// pendingScript returns {member, length, head element, leased} for every
// pair that holds records.
var pendingScript = redis.NewScript(`
local base = ARGV[1]
local out = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
  local q = base .. ':q:' .. m
  local h = redis.call('LINDEX', q, 0)
  if h then
    out[#out + 1] = {m, redis.call('LLEN', q), h, redis.call('EXISTS', base .. ':l:' .. m)}
  end
end
return out
`)

// summaryScript returns {queued, oldest pair's member or "", its head
// element or "", dead letters}: a few reads whatever the number of pairs.
// A pair in old whose list is gone (evicted under a maxmemory policy other
// than noeviction, or deleted by hand) holds nothing: it leaves old, and
// once old is empty nothing is queued, whatever n says. Left, Flush and
// Close would wait for reports that no Claim can find, forever without a
// deadline.
var summaryScript = redis.NewScript(`
local base = ARGV[1]
local n = tonumber(redis.call('GET', KEYS[2]) or '0')
local m, h = '', ''
while true do
  local first = redis.call('ZRANGE', KEYS[4], 0, 0)
  if #first == 0 then
    if n ~= 0 then
      n = 0
      redis.call('SET', KEYS[2], 0)
    end
    break
  end
  local e = redis.call('LINDEX', base .. ':q:' .. first[1], 0)
  if e then
    m, h = first[1], e
    break
  end
  redis.call('ZREM', KEYS[4], first[1])
end
return {n, m, h, redis.call('ZCARD', KEYS[5])}
`)

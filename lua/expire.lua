--[[
expire: releases reservations whose validity and grace have passed, at most ARGV[3] of them.
The service calls it for every partition on a timer; a service that was down catches up on
start, since the index keeps every due reservation until it is released.

KEYS[1]  the partition's event stream
ARGV[1]  the partition's key prefix
ARGV[2]  now, ms since the epoch
ARGV[3]  the most reservations to release in this call
ARGV[4]  the life of an idle session, s

Returns the number of index entries handled; the caller calls again while it equals ARGV[3].

Keeps: nothing is held forever; each release is an `expiry` event; held = Σ reservations.
]]
--@include codes
--@include state
--@include answers
--@include session

local prefix, now, limit, ttlSeconds = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local expiryKey = prefix .. 'exp'
local due = redis.call('ZRANGEBYSCORE', expiryKey, '-inf', now, 'LIMIT', 0, limit)

-- The session key of an index member, "<rating group>:<device> <session id>"
-- (includes/session.lua; ids hold no space). A member without a space was written before
-- sessions were scoped by device, as "<rating group>:<session id>" for `s:<session id>`: its
-- hold is released all the same, so an upgrade leaves no money held for good.
local function sessionOf(member)
  local colon = string.find(member, ':', 1, true)
  local space = string.find(member, ' ', colon + 1, true)
  local ratingGroup = string.sub(member, 1, colon - 1)
  if not space then return ratingGroup, string.sub(member, colon + 1), prefix .. 's:' .. string.sub(member, colon + 1) end
  local sessionId = string.sub(member, space + 1)
  return ratingGroup, sessionId, scopedKey(prefix, 's:', string.sub(member, colon + 1, space - 1), sessionId)
end

local function expireOne(member)
  local ratingGroup, sessionId, sessionKey = sessionOf(member)
  local owner = redis.call('HMGET', sessionKey, 'cus', 'dev')
  local state = owner[1] and State.new(prefix, owner[1], owner[2], now)
  local session = loadSession(sessionKey)
  local event = { rg = ratingGroup }
  -- After this point nothing can fail: an entry without a reservation is only dropped.
  redis.call('ZREM', expiryKey, member)
  if not state or not session.reservations[ratingGroup] then return end
  releaseReservation(state, session, ratingGroup, event)
  state:apply()
  writeSession(session, { sid = sessionId, dev = owner[2], cus = owner[1], expiryKey = expiryKey, graceMs = 0, ttlSeconds = ttlSeconds }, false)
  local balance, held = state:balanceAfter()
  appendEvent(KEYS[1], 'expiry', {
    sid = sessionId, dev = owner[2], cus = owner[1], now = ARGV[2], items = { event },
    bal = int(balance), held = int(held),
  })
end

for _, member in ipairs(due) do expireOne(member) end
return #due

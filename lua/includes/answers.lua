-- An idempotency key is its owner's own: a charge's event id and a top-up's id are scoped by
-- the customer, a session's id by its device (see src/balance/keys.ts). Ids never contain a
-- space, so "<owner> <id>" names no two pairs alike.
local function scopedKey(prefix, kind, owner, id)
  return prefix .. kind .. owner .. ' ' .. id
end

-- Stored answers, checked and written in the same call that changes the balance, so a request
-- takes effect at most once and every retry gets the first answer back, byte for byte.
-- An answer is stored as "<fingerprint>|<answer>"; the fingerprint is a digest of the
-- request's payload, so the same key with another payload is told apart.

local function splitStored(stored)
  local bar = string.find(stored, '|', 1, true)
  return string.sub(stored, 1, bar - 1), string.sub(stored, bar + 1)
end

-- A session's answers are one hash, `<request number>` → stored answer, plus `floor`: the
-- request number at or below which nothing is applied any more, and `end`, set once the session
-- ended (final commit or release of everything). The end is kept here rather than on the
-- session, which is deleted when it ends, so that reading it costs nothing more: a request
-- that arrives after the end, reordered or late, must grant nothing, and this hash outlives
-- the session by the answers' time to live.
--
-- Returns (status, answer, floor, ended): (nil, nil, floor, ended) for a new request,
-- (REPLAY, answer), (CONFLICT) or (TOO_OLD).
local function lookupSessionAnswer(answersKey, requestNumber, fingerprint)
  local found = redis.call('HMGET', answersKey, requestNumber, 'floor', 'end')
  local floor = tonumber(found[2] or '0')
  if found[1] then
    local storedFingerprint, answer = splitStored(found[1])
    if storedFingerprint ~= fingerprint then return Status.CONFLICT end
    return Status.REPLAY, answer
  end
  if tonumber(requestNumber) <= floor then return Status.TOO_OLD end
  return nil, nil, floor, found[3] ~= false
end

-- Drops the oldest answer kept, and raises the floor to its request number.
local function dropOldestAnswer(answersKey, floor)
  local oldest
  for _, field in ipairs(redis.call('HKEYS', answersKey)) do
    local number = tonumber(field)
    if number and (oldest == nil or number < oldest) then oldest = number end
  end
  redis.call('HDEL', answersKey, int(oldest))
  if oldest > floor then redis.call('HSET', answersKey, 'floor', int(oldest)) end
end

-- Keeps the answers of the newest `answersMax` request numbers: storing number n drops the
-- answer to n - answersMax, which becomes the floor. Gateways number a session's requests one
-- by one, so that alone keeps the hash at `answersMax` answers without listing them; the
-- count check catches a gateway that skips numbers. The answers outlive the session's last
-- request by `ttlSeconds`. `ended`: the session has ended, by this request or before.
local function storeSessionAnswer(answersKey, requestNumber, fingerprint, answer, floor, answersMax, ttlSeconds, ended)
  if ended then
    redis.call('HSET', answersKey, requestNumber, fingerprint .. '|' .. answer, 'end', '1')
  else
    redis.call('HSET', answersKey, requestNumber, fingerprint .. '|' .. answer)
  end
  local window = tonumber(requestNumber) - answersMax
  if window > floor then
    redis.call('HDEL', answersKey, int(window))
    redis.call('HSET', answersKey, 'floor', int(window))
    floor = window
  end
  -- Besides the answers: the floor, and the end once there is one.
  local otherFields = ended and 2 or 1
  if redis.call('HLEN', answersKey) > answersMax + otherFields then dropOldestAnswer(answersKey, floor) end
  redis.call('EXPIRE', answersKey, ttlSeconds)
end

-- One-shot keys (event_id, top_up_id): one string each, kept `ttlSeconds`.
local function lookupAnswer(key, fingerprint)
  local stored = redis.call('GET', key)
  if not stored then return nil end
  local storedFingerprint, answer = splitStored(stored)
  if storedFingerprint ~= fingerprint then return Status.CONFLICT end
  return Status.REPLAY, answer
end

local function storeAnswer(key, fingerprint, answer, ttlSeconds)
  redis.call('SET', key, fingerprint .. '|' .. answer, 'EX', ttlSeconds)
end

-- Every balance change is appended to the partition's stream in the same call, so the journal
-- can never see a change that Redis did not make, nor miss one that it did.
local function appendEvent(streamKey, eventType, data)
  return redis.call('XADD', streamKey, '*', 'type', eventType, 'data', cjson.encode(data))
end

-- Stored answers, checked and written in the same call that changes the balance, so a request
-- takes effect at most once and every retry gets the first answer back, byte for byte.
-- An answer is stored as "<fingerprint>|<answer>"; the fingerprint is a digest of the
-- request's payload, so the same key with another payload is told apart.

local function splitStored(stored)
  local bar = string.find(stored, '|', 1, true)
  return string.sub(stored, 1, bar - 1), string.sub(stored, bar + 1)
end

-- Returns (status, answer): (nil) for a new request, (REPLAY, answer), (CONFLICT) or (TOO_OLD).
local function lookupSessionAnswer(answersKey, requestNumber, fingerprint)
  local stored = redis.call('HGET', answersKey, requestNumber)
  if stored then
    local storedFingerprint, answer = splitStored(stored)
    if storedFingerprint ~= fingerprint then return Status.CONFLICT end
    return Status.REPLAY, answer
  end
  local floor = tonumber(redis.call('HGET', answersKey, 'floor') or '0')
  if tonumber(requestNumber) <= floor then return Status.TOO_OLD end
  return nil
end

-- Keeps the newest `answersMax` answers of a session; the highest request number dropped
-- becomes the floor below which requests are refused rather than applied twice. The answers
-- outlive the session's last request by `ttlSeconds`.
local function storeSessionAnswer(answersKey, orderKey, requestNumber, fingerprint, answer, answersMax, ttlSeconds)
  redis.call('HSET', answersKey, requestNumber, fingerprint .. '|' .. answer)
  if redis.call('RPUSH', orderKey, requestNumber) > answersMax then
    local dropped = redis.call('LPOP', orderKey)
    redis.call('HDEL', answersKey, dropped)
    local floor = tonumber(redis.call('HGET', answersKey, 'floor') or '0')
    if tonumber(dropped) > floor then redis.call('HSET', answersKey, 'floor', dropped) end
  end
  redis.call('EXPIRE', answersKey, ttlSeconds)
  redis.call('EXPIRE', orderKey, ttlSeconds)
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

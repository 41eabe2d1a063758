-- An in-memory view of one customer's part of a partition for the length of one call.
-- Every read goes through it and every change is recorded in it first; State:apply() writes
-- the changes at the end. Business rules therefore run as a dry run, and a script can still
-- answer NEED or CREDIT_LIMIT with nothing written, until it reaches its point of no return.
--
-- Amounts are integer micro-units. They are read with tonumber (exact below 2^53, which the
-- service enforces on every input) and written only as HINCRBY deltas.

local State = {}
State.__index = State

-- Returns nil when the customer's wallet is not in this partition.
function State.new(prefix, customer, device, now)
  local wallet = redis.call('HMGET', prefix .. 'w:' .. customer, 'balance', 'held', 'credit', 'currency')
  if not wallet[4] then return nil end
  local self = setmetatable({}, State)
  self.prefix, self.customer, self.device, self.now = prefix, customer, device, now
  self.walletKey = prefix .. 'w:' .. customer
  self.balance, self.held, self.credit = tonumber(wallet[1]), tonumber(wallet[2]), tonumber(wallet[3])
  self.currency = wallet[4]
  self.balanceDelta, self.heldDelta = 0, 0
  self.buckets, self.bucketOrder, self.eligibleByGroup = {}, {}, {}
  self.caps, self.capOrder = {}, {}
  self.endedBuckets = {}
  self.tiers, self.tierOrder = {}, {}
  return self
end

function State:available()
  return self.balance + self.balanceDelta + self.credit - self.held - self.heldDelta
end

-- Device ----------------------------------------------------------------------------------

-- False when the device is not this customer's in this partition.
function State:loadDevice(dayPeriod, monthPeriod)
  local device = redis.call('HMGET', self.prefix .. 'd:' .. self.device, 'customer', 'status', 'capDay', 'capMonth')
  if device[1] ~= self.customer then return false end
  self.suspended = device[2] == 'suspended'
  self.capDay = tonumber(device[3] or '')
  self.capMonth = tonumber(device[4] or '')
  local base = self.prefix .. 'cap:' .. self.device
  self.capDayKey = base .. ':d:' .. dayPeriod
  self.capMonthKey = base .. ':m:' .. monthPeriod
  return true
end

function State:capCounter(key)
  local counter = self.caps[key]
  if not counter then
    counter = { spent = tonumber(redis.call('GET', key) or '0'), delta = 0 }
    self.caps[key] = counter
    self.capOrder[#self.capOrder + 1] = key
  end
  return counter
end

local function capRoom(self, cap, key)
  if not cap then return nil end
  local counter = self:capCounter(key)
  return cap - counter.spent - counter.delta
end

-- The money this device may still take: the wallet's available, narrowed by its caps.
function State:budget()
  local budget = self:available()
  local day = capRoom(self, self.capDay, self.capDayKey)
  local month = capRoom(self, self.capMonth, self.capMonthKey)
  if day and day < budget then budget = day end
  if month and month < budget then budget = month end
  return budget
end

-- Counts money against the caps the device has; returns the keys it was counted in.
function State:countCaps(amount)
  local keys = {}
  if self.capDay then keys[#keys + 1] = self.capDayKey end
  if self.capMonth then keys[#keys + 1] = self.capMonthKey end
  self:uncountCaps(keys, -amount)
  return keys
end

function State:uncountCaps(keys, amount)
  for _, key in ipairs(keys or {}) do
    local counter = self:capCounter(key)
    counter.delta = counter.delta - amount
  end
end

-- Money -----------------------------------------------------------------------------------

function State:hold(amount)
  self.heldDelta = self.heldDelta + amount
  return self:countCaps(amount)
end

function State:charge(amount)
  self.balanceDelta = self.balanceDelta - amount
  self:countCaps(amount)
end

function State:topUp(amount)
  self.balanceDelta = self.balanceDelta + amount
end

function State:release(amount, capKeys)
  self.heldDelta = self.heldDelta - amount
  self:uncountCaps(capKeys, amount)
end

-- Tier counters ---------------------------------------------------------------------------

-- Units paid with money in a month, per rating group, by the customer's pool or by the device
-- (the item's `tc`): they place the tariff's tiers. None when the rate has no tiers. A counter is
-- named "<c:customer|d:device>:<rating group>:<YYYYMM>"; events record the name, so that a
-- rebuild can count them again from the journal.
function State:tierCounter(item)
  if item.tc == '' then return nil end
  local owner = item.tc == 'c' and ('c:' .. self.customer) or ('d:' .. self.device)
  local name = owner .. ':' .. item.rg .. ':' .. item.tp
  local key = self.prefix .. 'tu:' .. name
  local counter = self.tiers[key]
  if not counter then
    counter = { name = name, units = tonumber(redis.call('GET', key) or '0'), delta = 0 }
    self.tiers[key] = counter
    self.tierOrder[#self.tierOrder + 1] = key
  end
  return counter
end

function State:tierUnits(item)
  local counter = self:tierCounter(item)
  if not counter then return 0 end
  return counter.units + counter.delta
end

-- Returns the counter's name, or nil when the item counts in none.
function State:countTier(item, units)
  local counter = self:tierCounter(item)
  if not counter then return nil end
  counter.delta = counter.delta + units
  return counter.name
end

-- Allowances ------------------------------------------------------------------------------

function State:bucket(id)
  local bucket = self.buckets[id]
  if bucket == nil then
    local fields = redis.call('HMGET', self.prefix .. 'a:' .. id, 'total', 'used', 'held', 'from', 'until', 'device')
    if not fields[1] then return nil end
    bucket = {
      id = id, total = tonumber(fields[1]), used = tonumber(fields[2]), held = tonumber(fields[3]),
      from = tonumber(fields[4]), untilMs = tonumber(fields[5]), device = fields[6],
      usedDelta = 0, heldDelta = 0,
    }
    self.buckets[id] = bucket
    self.bucketOrder[#self.bucketOrder + 1] = id
  end
  return bucket
end

local function free(bucket)
  return bucket.total - bucket.used - bucket.usedDelta - bucket.held - bucket.heldDelta
end

-- Index entries read at most per index and rating group, when ended buckets fill the first ones.
local INDEX_ENTRIES_MAX = 64

local function drawsOn(self, bucket)
  return (bucket.device == '' or bucket.device == self.device) and self.now >= bucket.from
end

-- The entries of the two indexes a device draws on, its customer's pool and its own, merged in
-- the order of their scores (then ids), each as { index key, bucket id, score }.
local function indexEntries(self, ratingGroup)
  local entries = {}
  local indexKeys = { self.prefix .. 'ai:' .. self.customer .. ':' .. ratingGroup, self.prefix .. 'aid:' .. self.device .. ':' .. ratingGroup }
  for _, indexKey in ipairs(indexKeys) do
    local found = redis.call('ZRANGE', indexKey, 0, INDEX_ENTRIES_MAX - 1, 'WITHSCORES')
    for i = 1, #found, 2 do entries[#entries + 1] = { indexKey, found[i], tonumber(found[i + 1]) } end
  end
  table.sort(entries, function(left, right)
    if left[3] ~= right[3] then return left[3] < right[3] end
    return left[2] < right[2]
  end)
  return entries
end

-- Buckets this device may draw on for a rating group, at most `limit`, in the order they are
-- used: the indexes are scored by priority, then by the soonest end of validity. Buckets whose
-- validity has ended are skipped without counting, and leave their index when the call
-- applies, so old bundles never hide current ones.
function State:eligible(ratingGroup, limit)
  local list = self.eligibleByGroup[ratingGroup]
  if list then return list end
  list = {}
  for _, entry in ipairs(indexEntries(self, ratingGroup)) do
    if #list >= limit then break end
    local bucket = self:bucket(entry[2])
    if not bucket or bucket.untilMs <= self.now then
      self.endedBuckets[#self.endedBuckets + 1] = entry
    elseif drawsOn(self, bucket) then
      list[#list + 1] = bucket
    end
  end
  self.eligibleByGroup[ratingGroup] = list
  return list
end

-- Takes up to `units` from eligible buckets, as usage or as a hold. Returns the units taken
-- and the parts { {id, units}, ... } taken from each bucket.
function State:takeAllowance(ratingGroup, units, asUsage, limit)
  local taken, parts = 0, {}
  for _, bucket in ipairs(self:eligible(ratingGroup, limit)) do
    if units - taken <= 0 then break end
    local part = math.min(units - taken, free(bucket))
    if part > 0 then
      if asUsage then bucket.usedDelta = bucket.usedDelta + part else bucket.heldDelta = bucket.heldDelta + part end
      parts[#parts + 1] = { bucket.id, part }
      taken = taken + part
    end
  end
  return taken, parts
end

function State:allowanceLeft(ratingGroup, limit)
  local left = 0
  for _, bucket in ipairs(self:eligible(ratingGroup, limit)) do
    left = left + math.max(0, free(bucket))
  end
  return left
end

-- Turns up to `units` of held allowance parts into usage, in the order they were held, and
-- releases the rest. Returns the units used and their parts.
function State:settleAllowanceHolds(parts, units)
  local used, usedParts = 0, {}
  for _, part in ipairs(parts or {}) do
    local bucket = self:bucket(part[1])
    if bucket then
      local take = math.min(units - used, part[2])
      bucket.heldDelta = bucket.heldDelta - part[2]
      bucket.usedDelta = bucket.usedDelta + take
      if take > 0 then usedParts[#usedParts + 1] = { part[1], take } end
      used = used + take
    end
  end
  return used, usedParts
end

-- Writing ---------------------------------------------------------------------------------

-- Cap counters outlive their period by a day, so a late commit or release still finds them.
-- They are plain integers: a lost counter only forgets a cap, it never moves money.
local CAP_DAY_TTL_SECONDS, CAP_MONTH_TTL_SECONDS = 2 * 86400, 32 * 86400
-- A tier counter lives through its month and two more, for late reports.
local TIER_TTL_SECONDS = 92 * 86400

-- Called once, after the point of no return.
function State:apply()
  for _, ended in ipairs(self.endedBuckets) do redis.call('ZREM', ended[1], ended[2]) end
  if self.balanceDelta ~= 0 then redis.call('HINCRBY', self.walletKey, 'balance', int(self.balanceDelta)) end
  if self.heldDelta ~= 0 then redis.call('HINCRBY', self.walletKey, 'held', int(self.heldDelta)) end
  for _, id in ipairs(self.bucketOrder) do
    local bucket = self.buckets[id]
    local key = self.prefix .. 'a:' .. id
    if bucket.usedDelta ~= 0 then redis.call('HINCRBY', key, 'used', int(bucket.usedDelta)) end
    if bucket.heldDelta ~= 0 then redis.call('HINCRBY', key, 'held', int(bucket.heldDelta)) end
  end
  for _, key in ipairs(self.capOrder) do
    local counter = self.caps[key]
    if counter.delta ~= 0 then
      redis.call('INCRBY', key, int(counter.delta))
      redis.call('EXPIRE', key, string.find(key, ':d:%d+$') and CAP_DAY_TTL_SECONDS or CAP_MONTH_TTL_SECONDS)
    end
  end
  for _, key in ipairs(self.tierOrder) do
    local counter = self.tiers[key]
    if counter.delta ~= 0 then
      redis.call('INCRBY', key, int(counter.delta))
      redis.call('EXPIRE', key, TIER_TTL_SECONDS)
    end
  end
end

function State:balanceAfter()
  return self.balance + self.balanceDelta, self.held + self.heldDelta
end

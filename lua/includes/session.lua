-- Sessions: at most one reservation per rating group, held until commit, release or expiry.
--
-- A session is a hash: `dev` and `cus` (its device and customer), `g:<rating group>` (the
-- reservation, JSON of integer strings) and `x:<rating group>`, the rating group's position in
-- the session, "<units>:<micros>:<reported at>": units paid with money so far (they place the
-- tariff's intervals, and the connect fee comes with the first), their rated micros (for the
-- session's minimum and maximum), and when usage was last reported (the next report's span
-- starts there).
-- A session is its device's own: its keys are `s:<device> <session id>` and
-- `sa:<device> <session id>` (answers.lua scopedKey), so another device, of this customer or
-- any other, that uses the same session id has a session of its own and cannot touch this one.
-- Every reservation is also a member "<rating group>:<device> <session id>" of the partition's
-- expiry index, scored by the time after which the sweep releases it.
--
-- Prices come from the service (src/charging/pricing.ts): the request carries, per item, quotes
-- for the unit counts and positions it expects (`q`) and answers to budget questions (`b`), each
-- valid over a range of the period's tier counter. When the script needs a price it was not
-- given, it answers NEED with the positions it holds and writes nothing; the service rates that
-- exact case with the engine and calls again. Lua itself only adds and compares.

local function encodeParts(parts)
  local encoded = {}
  for i, part in ipairs(parts) do encoded[i] = { part[1], int(part[2]) } end
  return encoded
end

local function decodeReservation(text)
  local record = cjson.decode(text)
  local parts = {}
  for i, part in ipairs(record.b) do parts[i] = { part[1], tonumber(part[2]) } end
  return {
    units = tonumber(record.u), money = tonumber(record.m), moneyUnits = tonumber(record.mu),
    parts = parts, expiresAt = tonumber(record.e), capKeys = record.k,
  }
end

local function encodeReservation(reservation)
  return cjson.encode({
    u = int(reservation.units), m = int(reservation.money), mu = int(reservation.moneyUnits),
    b = encodeParts(reservation.parts), e = int(reservation.expiresAt), k = reservation.capKeys,
  })
end

-- Session -------------------------------------------------------------------------------------

local function decodePosition(text)
  local units, micros, at = string.match(text, '^(%d+):(%d+):(%d+)$')
  return { units = tonumber(units), micros = tonumber(micros), at = tonumber(at) }
end

local function positionOf(session, ratingGroup)
  return session.positions[ratingGroup] or { units = 0, micros = 0 }
end

local function movePosition(session, ratingGroup, position)
  if not session.moved[ratingGroup] then session.moved[#session.moved + 1] = ratingGroup end
  session.moved[ratingGroup] = true
  session.positions[ratingGroup] = position
end

local function openReservations(session)
  local count = 0
  for _ in pairs(session.reservations) do count = count + 1 end
  return count
end

local function loadSession(key)
  local session = { key = key, exists = false, reservations = {}, positions = {}, changes = {}, moved = {} }
  local fields = redis.call('HGETALL', key)
  for i = 1, #fields, 2 do
    local name, value = fields[i], fields[i + 1]
    session.exists = true
    if name == 'dev' then session.device = value
    elseif string.sub(name, 1, 2) == 'g:' then session.reservations[string.sub(name, 3)] = decodeReservation(value)
    elseif string.sub(name, 1, 2) == 'x:' then session.positions[string.sub(name, 3)] = decodePosition(value)
    end
  end
  session.heldBefore = openReservations(session)
  return session
end

-- Records the reservation a rating group has after this call (nil: none).
local function setReservation(session, ratingGroup, reservation)
  if session.changes[ratingGroup] == nil then session.changes[#session.changes + 1] = ratingGroup end
  session.changes[ratingGroup] = reservation or false
  session.reservations[ratingGroup] = reservation
end

-- Appends a field and its value to an HSET argument list.
local function pushPair(list, field, value)
  list[#list + 1] = field
  list[#list + 1] = value
end

-- Writes the session's changes: one HSET for its fields, and its expiry index entries.
local function writeSession(session, call, ending)
  local fields = {}
  for _, ratingGroup in ipairs(session.changes) do
    local reservation = session.changes[ratingGroup]
    local member = ratingGroup .. ':' .. call.dev .. ' ' .. call.sid
    if reservation then
      pushPair(fields, 'g:' .. ratingGroup, encodeReservation(reservation))
      redis.call('ZADD', call.expiryKey, int(reservation.expiresAt + call.graceMs), member)
    else
      if not ending then redis.call('HDEL', session.key, 'g:' .. ratingGroup) end
      redis.call('ZREM', call.expiryKey, member)
    end
  end
  if ending then
    redis.call('DEL', session.key)
    return
  end
  for _, ratingGroup in ipairs(session.moved) do
    local position = session.positions[ratingGroup]
    pushPair(fields, 'x:' .. ratingGroup, int(position.units) .. ':' .. int(position.micros) .. ':' .. int(position.at))
  end
  pushPair(fields, 'dev', call.dev)
  pushPair(fields, 'cus', call.cus)
  redis.call('HSET', session.key, unpack(fields))
  -- Held money must never vanish with a key, so a session with holds does not expire: the
  -- sweep releases them. An idle session without holds lives as long as its answers. A new
  -- key has no time to live to remove, nor has one that already held something.
  if openReservations(session) > 0 then
    if session.exists and session.heldBefore == 0 then redis.call('PERSIST', session.key) end
  else
    redis.call('EXPIRE', session.key, call.ttlSeconds)
  end
end

-- Records on the event the reservation a call ends: its units, its money and the allowance
-- parts it held, so a journal can follow every hold without replaying the session.
local function recordReleased(event, reservation)
  event.ru, event.rm, event.rb = int(reservation.units), int(reservation.money), encodeParts(reservation.parts)
end

-- Releases a reservation in full: its money hold, and its allowance holds with no usage.
local function releaseReservation(state, session, ratingGroup, event)
  local reservation = session.reservations[ratingGroup]
  if not reservation then return 0, 0 end
  state:release(reservation.money, reservation.capKeys)
  state:settleAllowanceHolds(reservation.parts, 0)
  setReservation(session, ratingGroup, nil)
  recordReleased(event, reservation)
  return reservation.units, reservation.money
end

-- Items ---------------------------------------------------------------------------------------

-- Returned instead of a NEED when usage would take the balance below the exact range: the
-- call is refused with nothing written.
local BALANCE_LIMIT = { k = 'limit' }

-- A quote or budget answer for `key`, when it holds at the period's tier position (one without
-- a range holds at any).
local function quoteFor(quotes, key, periodUnits)
  local quote = quotes[key]
  if quote and (quote.lo == nil or (periodUnits >= tonumber(quote.lo) and periodUnits <= tonumber(quote.hi))) then return quote end
  return nil
end

-- The price of a grant (or a one-shot event) of `units` at the call's time and `position`.
local function grantQuote(state, item, units, position)
  local periodUnits = state:tierUnits(item)
  local key = 'g:' .. int(units) .. ':' .. int(position.units) .. ':' .. int(position.micros)
  local quote = quoteFor(item.q, key, periodUnits)
  if quote then return quote end
  return nil, {
    k = 'quote', kind = 'g', rg = item.rg, units = int(units),
    s = int(position.units), m = int(position.micros), t = '0', p = int(periodUnits),
  }
end

-- The price of usage reported since the position's last report.
local function usageQuote(state, call, item, units, position)
  local periodUnits = state:tierUnits(item)
  local reportedAt = position.at or call.at
  local key = 'u:' .. int(units) .. ':' .. int(position.units) .. ':' .. int(position.micros) .. ':' .. int(reportedAt)
  local quote = quoteFor(item.q, key, periodUnits)
  if quote then return quote end
  return nil, {
    k = 'quote', kind = 'u', rg = item.rg, units = int(units),
    s = int(position.units), m = int(position.micros), t = int(reportedAt), p = int(periodUnits),
  }
end

-- Money paid for units moves the session's position and the period's tier counter, which the
-- event names (`tu`).
local function advance(state, session, item, position, units, quote, event)
  event.tu = state:countTier(item, units)
  movePosition(session, item.rg, { units = position.units + units, micros = position.micros + tonumber(quote.r), at = position.at })
end

-- Usage is paid from the allowance this rating group held, then from any other allowance
-- still free, then with money. Money may overshoot the budget: what was used is charged.
local function chargeUsage(state, session, call, item, reservation, event, out)
  local fromHolds, heldParts = state:settleAllowanceHolds(reservation and reservation.parts, item.used)
  local fromFree, freeParts = state:takeAllowance(item.rg, item.used - fromHolds, true, call.alim)
  for _, part in ipairs(freeParts) do heldParts[#heldParts + 1] = part end
  local moneyUnits = item.used - fromHolds - fromFree
  event.used, event.au, event.ab = int(item.used), int(fromHolds + fromFree), encodeParts(heldParts)
  out.cu = int(item.used)
  if moneyUnits == 0 then return nil end
  local position = positionOf(session, item.rg)
  local quote, need = usageQuote(state, call, item, moneyUnits, position)
  if need then return need end
  local price = tonumber(quote.a)
  if state:balanceAfter() - price < -AMOUNT_MICROS_MAX then return BALANCE_LIMIT end
  local overshoot = price - math.max(state:budget(), 0)
  state:charge(price)
  advance(state, session, item, position, moneyUnits, quote, event)
  event.mu, event.cm = int(moneyUnits), int(price)
  if overshoot > 0 then event.os = int(overshoot) end
  out.cm = int(price)
  return nil
end

-- Money that a budget cannot fully cover buys the most whole increments it can: the service
-- answers that budget question exactly, so no division ever happens here.
local function moneyGrant(state, session, item, units)
  local position = positionOf(session, item.rg)
  local quote, need = grantQuote(state, item, units, position)
  if need then return nil, nil, need end
  local price = tonumber(quote.a)
  local budget = state:budget()
  if price <= budget then return units, price end
  if budget <= 0 then return 0, 0 end
  local periodUnits = state:tierUnits(item)
  local answer = quoteFor(item.b, int(budget) .. ':' .. int(units) .. ':' .. int(position.units) .. ':' .. int(position.micros), periodUnits)
  if answer == nil then
    return nil, nil, {
      k = 'budget', rg = item.rg, budget = int(budget), units = int(units),
      s = int(position.units), m = int(position.micros), p = int(periodUnits),
    }
  end
  return tonumber(answer.u), tonumber(answer.a)
end

-- Allowance before money: grants from eligible buckets first, then holds money for the rest.
local function grantUnits(state, session, call, item, event, out)
  local fromAllowance, parts = state:takeAllowance(item.rg, item.req, false, call.alim)
  local moneyUnits, money, need = 0, 0, nil
  if item.req > fromAllowance then
    moneyUnits, money, need = moneyGrant(state, session, item, item.req - fromAllowance)
    if need then return need end
  end
  local granted = fromAllowance + moneyUnits
  if granted == 0 then
    out.r = Result.CREDIT_LIMIT_REACHED
    return nil
  end
  local capKeys = state:hold(money)
  setReservation(session, item.rg, {
    units = granted, money = money, moneyUnits = moneyUnits, parts = parts,
    expiresAt = call.now + call.validityMs, capKeys = capKeys,
  })
  local last = granted < item.req
    or (state:allowanceLeft(item.rg, call.alim) == 0 and state:budget() < tonumber(item.min))
  out.g, out.a, out.m, out.f = int(granted), int(fromAllowance), int(money), last and call.fua or 0
  event.g, event.ga, event.gm, event.gb = int(granted), int(fromAllowance), int(money), encodeParts(parts)
  return nil
end

-- No tariff prices this rating group (any more): usage is taken from the allowance the
-- reservation held, the rest is kept on the event, unpriced, for the offline path to price,
-- and nothing is granted.
local function settleUnrated(state, session, item, reservation, event, out)
  local fromHolds, usedParts = 0, {}
  if reservation then
    state:release(reservation.money, reservation.capKeys)
    fromHolds, usedParts = state:settleAllowanceHolds(reservation.parts, item.used)
    setReservation(session, item.rg, nil)
    recordReleased(event, reservation)
  end
  if item.used > 0 then event.used, event.au, event.ab = int(item.used), int(fromHolds), encodeParts(usedParts) end
  if item.used > fromHolds then event.unrated = int(item.used - fromHolds) end
  out.cu, out.r = int(fromHolds), Result.RATING_FAILED
  return nil
end

local function newOut(ratingGroup)
  return { rg = ratingGroup, r = Result.SUCCESS, g = '0', a = '0', m = '0', cu = '0', cm = '0', ru = '0', rm = '0', f = 0 }
end

-- One rating group of a Reserve or Commit: release the old money hold, charge the usage
-- (settling the old allowance holds), then grant anew. Returns a NEED description or nil.
local function processItem(state, session, call, item, outs, events)
  local out, event = newOut(item.rg), { rg = item.rg }
  outs[#outs + 1], events[#events + 1] = out, event
  local reservation = session.reservations[item.rg]
  if not item.rated then return settleUnrated(state, session, item, reservation, event, out) end
  if reservation then
    state:release(reservation.money, reservation.capKeys)
    recordReleased(event, reservation)
  end
  local need = chargeUsage(state, session, call, item, reservation, event, out)
  if need then return need end
  if item.used > 0 and item.z ~= '' then event.z = item.z end
  local position = positionOf(session, item.rg)
  movePosition(session, item.rg, { units = position.units, micros = position.micros, at = call.at })
  setReservation(session, item.rg, nil)
  if item.req == 0 or call.final then return nil end
  -- A request reordered behind the session's end, or sent after it: what it used is charged
  -- above, but an ended session grants nothing, with the result a suspended device gets.
  if state.suspended or call.ended then
    out.r = Result.SERVICE_DENIED
    return nil
  end
  return grantUnits(state, session, call, item, event, out)
end

local function decodeItem(raw)
  return {
    rg = raw.rg, used = tonumber(raw.used or '0'), req = tonumber(raw.req or '0'),
    rated = raw.rated, tc = raw.tc or '', tp = raw.tp or '', z = raw.z or '',
    q = raw.q or {}, b = raw.b or {}, min = raw.min or '0',
  }
end

-- What the service remembers to quote the next call of a session without a NEED: each rated
-- item's rating group, its position after this call and its tier counter, five entries each.
-- Plain Lua numbers, which Redis replies as integers (exact, as all are below 2^53).
local function positionsSeen(state, session, items)
  local seen = {}
  for _, item in ipairs(items) do
    local position = session.positions[item.rg]
    if item.rated and position then
      local n = #seen
      seen[n + 1], seen[n + 2], seen[n + 3] = item.rg, position.units, position.micros
      seen[n + 4], seen[n + 5] = position.at, state:tierUnits(item)
    end
  end
  return seen
end

-- The shared body of reserve.lua and commit.lua.
local function runSessionCall(operation, call)
  call.now, call.at = tonumber(call.now), tonumber(call.at)
  call.validityMs, call.graceMs = tonumber(call.vms), tonumber(call.grace)
  call.ttlSeconds, call.alim = tonumber(call.ttl), tonumber(call.alim)
  local prefix = ARGV[1]
  call.expiryKey = prefix .. 'exp'
  local answersKey = scopedKey(prefix, 'sa:', call.dev, call.sid)

  local status, answer, floor, ended = lookupSessionAnswer(answersKey, call.rq, call.fp)
  if status then return { status, answer } end
  call.ended = ended
  local state = State.new(prefix, call.cus, call.dev, call.now)
  if not state or not state:loadDevice(call.day, call.mon) then return { Status.MOVED } end
  local session = loadSession(scopedKey(prefix, 's:', call.dev, call.sid))

  local outs, events = {}, {}
  local ending = call.final or (operation == 'release' and #call.rgs == 0)
  -- A call on an ended session leaves no session behind: there is nothing to hold or remember.
  local leavesNoSession = ending or ended
  if operation == 'release' then
    local groups = call.rgs
    if #groups == 0 then
      for ratingGroup in pairs(session.reservations) do groups[#groups + 1] = ratingGroup end
      table.sort(groups)
    end
    for _, ratingGroup in ipairs(groups) do
      local out, event = newOut(ratingGroup), { rg = ratingGroup }
      local units, money = releaseReservation(state, session, ratingGroup, event)
      out.ru, out.rm = int(units), int(money)
      outs[#outs + 1], events[#events + 1] = out, event
    end
  else
    for i, raw in ipairs(call.items) do
      call.items[i] = decodeItem(raw)
      local need = processItem(state, session, call, call.items[i], outs, events)
      if need == BALANCE_LIMIT then return { Status.LIMIT } end
      if need then return { Status.NEED, cjson.encode(need) } end
    end
  end
  if ending then
    for ratingGroup in pairs(session.reservations) do
      local event = { rg = ratingGroup }
      releaseReservation(state, session, ratingGroup, event)
      events[#events + 1] = event
    end
  end
  local result = Result.SUCCESS
  if state.suspended and operation ~= 'release' then result = Result.SERVICE_DENIED end

  -- After this point the script must succeed: everything below only writes.
  state:apply()
  writeSession(session, call, leavesNoSession)
  local balance, held = state:balanceAfter()
  local streamId = appendEvent(KEYS[1], operation, {
    sid = call.sid, rq = call.rq, dev = call.dev, cus = call.cus, at = int(call.at), now = int(call.now),
    fin = ending and 1 or 0, items = events, bal = int(balance), held = int(held),
  })
  for _, event in ipairs(events) do
    if event.os then
      appendEvent(KEYS[1], 'overshoot', {
        ref = streamId, sid = call.sid, rq = call.rq, dev = call.dev, cus = call.cus, rg = event.rg,
        os = event.os, at = int(call.at), bal = int(balance),
      })
    end
  end
  answer = cjson.encode({ r = result, cur = state.currency, i = outs })
  storeSessionAnswer(answersKey, call.rq, call.fp, answer, floor, tonumber(call.amax), call.ttlSeconds, leavesNoSession)
  if operation == 'release' or leavesNoSession then return { Status.OK, answer } end
  return { Status.OK, answer, positionsSeen(state, session, call.items) }
end

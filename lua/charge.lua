--[[
charge: a one-shot event (SMS, API call), reserved and committed in one step, all or nothing.

KEYS[1]  the partition's event stream
ARGV[1]  the partition's key prefix
ARGV[2]  JSON: eid (event id), fp, dev, cus, now, at, ttl, alim, day, mon,
         item = { rg, used (the event's units), rated, tc, tp, z, q } (see includes/session.lua)

Returns { status, payload }: OK or REPLAY with the answer JSON
{ r (result), cur, cu (charged units), cm (charged micros), a (allowance units) };
NEED, CONFLICT or MOVED with nothing.

Keeps: allowance before money; no overdraft: a charge the budget cannot cover is
CREDIT_LIMIT_REACHED with nothing taken; the answer is kept ttl seconds.
]]
--@include codes
--@include state
--@include answers
--@include session

local prefix, call = ARGV[1], cjson.decode(ARGV[2])
local answerKey = scopedKey(prefix, 'ea:', call.cus, call.eid)
local status, stored = lookupAnswer(answerKey, call.fp)
if status then return { status, stored } end
local state = State.new(prefix, call.cus, call.dev, tonumber(call.now))
if not state or not state:loadDevice(call.day, call.mon) then return { Status.MOVED } end

local item = decodeItem(call.item)
local answer = { r = Result.SUCCESS, cur = state.currency, cu = '0', cm = '0', a = '0' }
local event = { rg = item.rg, used = int(item.used) }
if state.suspended then
  answer.r = Result.SERVICE_DENIED
elseif not item.rated then
  answer.r = Result.RATING_FAILED
else
  local fromAllowance, parts = state:takeAllowance(item.rg, item.used, true, tonumber(call.alim))
  local moneyUnits, price = item.used - fromAllowance, 0
  if moneyUnits > 0 then
    -- An event is a session of its own: priced at its time, from the start of the session.
    local quote, need = grantQuote(state, item, moneyUnits, { units = 0, micros = 0 })
    if need then return { Status.NEED, cjson.encode(need) } end
    price = tonumber(quote.a)
  end
  if price > 0 and price > state:budget() then
    answer.r = Result.CREDIT_LIMIT_REACHED
  else
    state:charge(price)
    event.tu = state:countTier(item, moneyUnits)
    if item.z ~= '' then event.z = item.z end
    answer.cu, answer.cm, answer.a = int(item.used), int(price), int(fromAllowance)
    event.au, event.ab, event.mu, event.cm = int(fromAllowance), encodeParts(parts), int(moneyUnits), int(price)
  end
end

-- After this point the script must succeed: everything below only writes.
if answer.r == Result.SUCCESS then
  state:apply()
  local balance, held = state:balanceAfter()
  appendEvent(KEYS[1], 'charge', {
    eid = call.eid, dev = call.dev, cus = call.cus, at = call.at, now = call.now,
    items = { event }, bal = int(balance), held = int(held),
  })
end
local encoded = cjson.encode(answer)
storeAnswer(answerKey, call.fp, encoded, tonumber(call.ttl))
return { Status.OK, encoded }

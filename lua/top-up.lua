--[[
top-up: adds money to a customer's wallet.

KEYS[1]  the partition's event stream
ARGV[1]  the partition's key prefix
ARGV[2]  JSON: tid (top-up id), fp, cus, amount (positive micros), cur (ISO 4217), now, ttl

Returns { status, payload }: OK or REPLAY with the answer JSON
{ bal, held, credit, cur } (micros); CONFLICT, MOVED (no such wallet here), CURRENCY or LIMIT
with nothing.

Keeps: the balance changes only by HINCRBY, and balance + credit (what is available) stays
below 2^53, where Lua compares exactly.
]]
--@include codes
--@include answers

local prefix, call = ARGV[1], cjson.decode(ARGV[2])
local answerKey = scopedKey(prefix, 'ta:', call.cus, call.tid)
local status, stored = lookupAnswer(answerKey, call.fp)
if status then return { status, stored } end
local walletKey = prefix .. 'w:' .. call.cus
local wallet = redis.call('HMGET', walletKey, 'balance', 'held', 'credit', 'currency')
if not wallet[4] then return { Status.MOVED } end
if wallet[4] ~= call.cur then return { Status.CURRENCY } end
-- Available money is balance + credit, so their sum is what must stay exact.
if tonumber(wallet[1]) + tonumber(wallet[3]) + tonumber(call.amount) > AMOUNT_MICROS_MAX then return { Status.LIMIT } end

-- After this point the script must succeed: everything below only writes.
local balance = redis.call('HINCRBY', walletKey, 'balance', call.amount)
appendEvent(KEYS[1], 'top-up', {
  tid = call.tid, cus = call.cus, amount = call.amount, cur = call.cur, now = call.now,
  bal = string.format('%d', balance), held = wallet[2],
})
local answer = cjson.encode({ bal = string.format('%d', balance), held = wallet[2], credit = wallet[3], cur = wallet[4] })
storeAnswer(answerKey, call.fp, answer, tonumber(call.ttl))
return { Status.OK, answer }

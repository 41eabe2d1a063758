--[[
balance: reads a wallet and its allowance buckets in one atomic step, changing nothing.

KEYS[1]  the customer's wallet (<prefix>{p<n>}:w:<customer>)
ARGV[1]  the partition's key prefix
ARGV[2]  the customer id
ARGV[3]  a device id, or "": the device's own buckets are listed with the pool's

Returns nil when there is no such wallet, else JSON
{ bal, held, credit, cur, a = [{ id, rg, total, used, held, from, until, device, priority }] }
with every number an integer string.
]]
local prefix, customer, device = ARGV[1], ARGV[2], ARGV[3]
local wallet = redis.call('HMGET', KEYS[1], 'balance', 'held', 'credit', 'currency')
if not wallet[4] then return nil end
local ids = redis.call('SMEMBERS', prefix .. 'ac:' .. customer)
if device ~= '' then
  for _, id in ipairs(redis.call('SMEMBERS', prefix .. 'acd:' .. device)) do ids[#ids + 1] = id end
end
local allowances = {}
for _, id in ipairs(ids) do
  local fields = redis.call('HMGET', prefix .. 'a:' .. id, 'rg', 'total', 'used', 'held', 'from', 'until', 'device', 'priority')
  if fields[1] then
    allowances[#allowances + 1] = {
      id = id, rg = fields[1], total = fields[2], used = fields[3], held = fields[4],
      from = fields[5], ['until'] = fields[6], device = fields[7], priority = fields[8],
    }
  end
end
return cjson.encode({ bal = wallet[1], held = wallet[2], credit = wallet[3], cur = wallet[4], a = allowances })

--[[
commit: reports usage per rating group (a delta since the last report), releases the old hold
and grants the next, atomically. With final set, every hold of the session is released and
the session ends.

KEYS and ARGV as reserve.lua, with items = [{ rg, used, req, rated, tc, tp, z, q, b, min }] and final.

Returns as reserve.lua.

Keeps: what was used is charged in full, from allowance first; money may go below zero by
that overshoot only, which is recorded as an `overshoot` event; nothing more is granted while
the budget is not above zero. held = Σ reservations.
]]
--@include codes
--@include state
--@include answers
--@include session

return runSessionCall('commit', cjson.decode(ARGV[2]))

--[[
release: returns the unused holds of some rating groups (rgs), or of all of them (rgs empty,
which ends the session). Nothing is charged.

KEYS and ARGV as reserve.lua, with rgs = [ "<rating group>", ... ] instead of items.

Returns as reserve.lua; each answer item carries ru (released units) and rm (released micros).

Keeps: held = Σ reservations; a release of nothing is an answer, not an error.
]]
--@include codes
--@include state
--@include answers
--@include session

return runSessionCall('release', cjson.decode(ARGV[2]))

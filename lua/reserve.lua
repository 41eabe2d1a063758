--[[
reserve: opens or extends a session and holds quota per rating group.

KEYS[1]  the partition's event stream (<prefix>{p<n>}:events); every other key the script
         touches shares its hash tag and is built from ARGV[1]
ARGV[1]  the partition's key prefix, "<prefix>{p<n>}:"
ARGV[2]  the call, JSON with every number as an integer string:
         sid, rq (request number), fp (payload fingerprint), dev, cus, now and at (ms since
         the epoch), vms (validity, ms), grace (ms), ttl (answers' life, s), amax (answers
         kept), alim (allowance buckets looked at), day and mon (cap periods, customer's time
         zone), fua (the Final-Unit-Action code for a last grant), final=false,
         items = [{ rg, req (units), rated, tc and tp (the tier counter), z (zone), q and b
         (quotes and budget answers, see includes/session.lua), min (micros) }]

Returns { status, payload }: OK or REPLAY with the answer JSON, NEED with what to price,
CONFLICT, TOO_OLD, MOVED or LIMIT (usage would take the balance out of the exact
range) with nothing (see includes/codes.lua). OK adds a third element, the rated items'
positions after the call (includes/session.lua positionsSeen).

Keeps: no overdraft (money is held only within the budget: wallet available narrowed by the
device's caps); held = Σ reservations; allowance before money; the answer, the change and its
event are written together or not at all; once a session has ended (final commit, release of
everything), no later request of it grants or holds anything (SERVICE_DENIED per item), though
what it used is charged.
]]
--@include codes
--@include state
--@include answers
--@include session

return runSessionCall('reserve', cjson.decode(ARGV[2]))

-- Stable codes shared by every script, mirrored by src/balance/codes.ts (a test keeps the two
-- equal).
--
-- Status: what became of the call as a whole.
--   OK        applied; the answer follows and was stored for retries
--   REPLAY    a retry; the stored answer follows, nothing changed
--   NEED      a price or a budget answer is missing; nothing changed, call again with it
--   CONFLICT  the idempotency key was used with another payload; nothing changed
--   TOO_OLD   the request number is older than the answers kept; nothing changed
--   MOVED     the device or customer is not in this partition (stale cache); nothing changed
--   CURRENCY  the top-up currency is not the wallet's; nothing changed
--   LIMIT     the balance would pass the largest amount Lua holds exactly; nothing changed
local Status = {
  OK = 'OK',
  REPLAY = 'REPLAY',
  NEED = 'NEED',
  CONFLICT = 'CONFLICT',
  TOO_OLD = 'TOO_OLD',
  MOVED = 'MOVED',
  CURRENCY = 'CURRENCY',
  LIMIT = 'LIMIT',
}

-- Result: the business outcome of a command or of one rating group, as Diameter numbers it.
local Result = {
  SUCCESS = 2001,
  SERVICE_DENIED = 4010,
  CREDIT_LIMIT_REACHED = 4012,
  USER_UNKNOWN = 5030,
  RATING_FAILED = 5031,
}

-- The largest amount, in micros, that a Lua number (a double) holds exactly: 2^53 - 1.
local AMOUNT_MICROS_MAX = 9007199254740991

-- An integer amount or count as the exact decimal string Redis and the service expect
-- (tostring would switch to exponent notation above 10^14).
local function int(n)
  return string.format('%d', n)
end

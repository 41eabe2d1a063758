// Mirrors lua/includes/codes.lua; test/unit/lua-codes.test.ts keeps the two equal.

/** What became of a script call as a whole. */
export const ScriptStatus = {
  OK: 'OK',
  REPLAY: 'REPLAY',
  NEED: 'NEED',
  CONFLICT: 'CONFLICT',
  TOO_OLD: 'TOO_OLD',
  MOVED: 'MOVED',
  CURRENCY: 'CURRENCY',
  LIMIT: 'LIMIT',
} as const;
export type ScriptStatus = (typeof ScriptStatus)[keyof typeof ScriptStatus];

/** Business outcomes, numbered as Diameter's Result-Code; the proto's ResultCode uses the same numbers. */
export const Result = {
  SUCCESS: 2001,
  SERVICE_DENIED: 4010,
  CREDIT_LIMIT_REACHED: 4012,
  USER_UNKNOWN: 5030,
  RATING_FAILED: 5031,
} as const;
export type Result = (typeof Result)[keyof typeof Result];

// The text formats both APIs accept, defined once so that the charging requests and the admin
// API can never disagree about what an id, a decimal number or a time looks like.

export const ID_LENGTH_MAX = 128;
export const ID_RULE = `must be 1 to ${ID_LENGTH_MAX} printable ASCII characters without spaces`;
const ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

/**
 * C0 controls, DEL and C1 controls. Refused in every text field: PostgreSQL cannot store NUL, a
 * line break or an escape sequence forges lines and colours in logs, CSVs and terminals, and no
 * name, id or label needs one.
 */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
export const TEXT_RULE = 'must not contain control characters (U+0000 to U+001F, U+007F to U+009F)';

export function hasControlCharacter(text: string): boolean {
  return CONTROL_CHARACTER.test(text);
}

/** A uint32 written out: digits only, as Number() would also take "0x10", "1e1" and " 10". */
export const UINT32_DIGITS = /^\d{1,10}$/;

export const RFC3339_RULE = 'must be an RFC 3339 timestamp such as "2026-11-23T10:00:00Z"';
// Date.parse is not used: it takes "5" as a local date in 2001 and rolls 30 February over to
// March. Leap seconds (":60") are refused, as google.protobuf.Timestamp has none.
const RFC3339_PATTERN =
  /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:\.(\d{1,9}))?(?:[Zz]|([+-])([01]\d|2[0-3]):([0-5]\d))$/;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/** Milliseconds since the epoch, or undefined when the text is not RFC 3339 or names no real day. */
export function parseRfc3339(text: string): number | undefined {
  const match = RFC3339_PATTERN.exec(text);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, keeps years 0 to 99 as written.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCDate() !== day) return undefined;
  const offsetMinutes = match[8] === undefined ? 0 : (match[8] === '-' ? -1 : 1) * (Number(match[9]) * 60 + Number(match[10]));
  const milliseconds = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
  return date.getTime() + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + milliseconds;
}

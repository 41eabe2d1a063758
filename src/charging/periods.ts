// The day and month an instant falls in, in a customer's time zone: the periods of a device's
// spending caps. Formatting with Intl is slow next to a charge, so each time zone remembers the
// last minute it formatted; nearly every request falls in it.

export interface Periods {
  /** YYYYMMDD */
  day: string;
  /** YYYYMM */
  month: string;
}

const MINUTE_MS = 60_000;
const cache = new Map<string, { minute: number; periods: Periods; format: Intl.DateTimeFormat }>();
const TIME_ZONES_CACHED_MAX = 1024;

export function periodsAt(timeZone: string, instantMs: number): Periods {
  const minute = Math.floor(instantMs / MINUTE_MS);
  let entry = cache.get(timeZone);
  if (entry === undefined) {
    if (cache.size >= TIME_ZONES_CACHED_MAX) cache.clear();
    const format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    entry = { minute: Number.NaN, periods: { day: '', month: '' }, format };
    cache.set(timeZone, entry);
  }
  if (entry.minute !== minute) {
    const [year, month, day] = entry.format.format(instantMs).split('-');
    entry.minute = minute;
    entry.periods = { day: `${year}${month}${day}`, month: `${year}${month}` };
  }
  return entry.periods;
}

export function isTimeZone(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

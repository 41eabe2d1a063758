// The day and month an instant falls in, in a customer's time zone: the periods of a device's
// spending caps and tier counters. From the zone's table of UTC offsets, which it learns once
// (src/rating/time-zone-offsets.ts): formatting with Intl on every request would cost more than
// pricing it, as requests carry both the server's time (caps) and their own event time (tiers).
import { localDateAt } from '../catalog/local-calendar.js';

export interface Periods {
  /** YYYYMMDD */
  day: string;
  /** YYYYMM */
  month: string;
}

const twoDigits = (value: number): string => (value < 10 ? `0${value}` : String(value));

export function periodsAt(timeZone: string, instantMs: number): Periods {
  const date = localDateAt(timeZone, instantMs);
  const month = `${date.year}${twoDigits(date.month)}`;
  return { day: `${month}${twoDigits(date.day)}`, month };
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

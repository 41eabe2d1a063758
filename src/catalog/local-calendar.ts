// Calendar periods (days, ISO weeks, months, years) as a customer's time zone counts them: where
// a period starts and ends as instants, and how many calendar days it has. A month in a zone with
// a DST change is still 31 days long, though it lasts 743 or 745 hours.
import { offsetRunAt } from '../rating/time-zone-offsets.js';

export type PeriodUnit = 'day' | 'week' | 'month' | 'year';

/** A local calendar date; `month` is 1 to 12. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

export interface LocalPeriod {
  unit: PeriodUnit;
  /** The local date the period starts on, "YYYY-MM-DD". */
  startDate: string;
  startMs: number;
  /** Exclusive. */
  endMs: number;
  /** Calendar days in the period: 1, 7, 28 to 31, 365 or 366. */
  days: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** UTC offsets run from −12:00 to +14:00, so a local midnight is within these hours of its UTC twin. */
const OFFSET_WINDOW_MS = 15 * HOUR_MS;
/** The tz database changes a zone's offset at most once in 6 hours: a 30-hour window has at most 6 runs. */
const RUNS_PER_WINDOW_MAX = 8;

export function localDateAt(timeZone: string, instantMs: number): LocalDate {
  const wall = new Date(instantMs + offsetRunAt(timeZone, instantMs).offsetMs);
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
}

/** Days since 1970-01-01 of a local date; the difference of two is the days between them. */
export function epochDay(date: LocalDate): number {
  return Math.round(Date.UTC(date.year, date.month - 1, date.day) / DAY_MS);
}

/** The date `days` after `date` (before, when negative); months and years roll over. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const moved = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate() };
}

/** "YYYY-MM-DD", as formatLocalDate writes it. */
export function parseLocalDate(text: string): LocalDate {
  const [year, month, day] = text.split('-').map(Number) as [number, number, number];
  return { year, month, day };
}

export function formatLocalDate(date: LocalDate): string {
  return `${String(date.year).padStart(4, '0')}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

/**
 * The first instant of a local date: its midnight, the earlier one where midnight happens twice,
 * or the end of the gap where a DST change skips midnight (as in America/Santiago).
 */
export function startOfLocalDateMs(timeZone: string, date: LocalDate): number {
  const wallMs = Date.UTC(date.year, date.month - 1, date.day);
  let firstAfterMs: number | undefined;
  let runStartMs = wallMs - OFFSET_WINDOW_MS;
  for (let run = 0; run < RUNS_PER_WINDOW_MAX && runStartMs <= wallMs + OFFSET_WINDOW_MS; run++) {
    const { offsetMs, untilMs } = offsetRunAt(timeZone, runStartMs);
    const candidateMs = wallMs - offsetMs;
    if (candidateMs >= runStartMs && candidateMs < untilMs) return candidateMs;
    if (firstAfterMs === undefined && runStartMs + offsetMs > wallMs) firstAfterMs = runStartMs;
    runStartMs = untilMs;
  }
  if (firstAfterMs === undefined) throw new Error(`no start found for ${formatLocalDate(date)} in ${timeZone}`);
  return firstAfterMs;
}

/** The first local date of the period of `unit` that contains `date`; weeks start on Monday. */
export function periodStartDate(unit: PeriodUnit, date: LocalDate): LocalDate {
  switch (unit) {
    case 'day':
      return date;
    case 'week':
      // 1970-01-01 was a Thursday: epoch day 0 is weekday 3 counting from Monday.
      return addDays(date, -((epochDay(date) + 3) % 7));
    case 'month':
      return { year: date.year, month: date.month, day: 1 };
    case 'year':
      return { year: date.year, month: 1, day: 1 };
  }
}

/** The first local date of the period `count` periods after the one starting on `start`. */
export function shiftPeriodStart(unit: PeriodUnit, start: LocalDate, count: number): LocalDate {
  switch (unit) {
    case 'day':
      return addDays(start, count);
    case 'week':
      return addDays(start, 7 * count);
    case 'month': {
      const months = start.year * 12 + start.month - 1 + count;
      return { year: Math.floor(months / 12), month: (months % 12) + 1, day: 1 };
    }
    case 'year':
      return { year: start.year + count, month: 1, day: 1 };
  }
}

/** The period of `unit` that starts on the local date `start`, which must be a period start. */
export function periodStartingOn(unit: PeriodUnit, timeZone: string, start: LocalDate): LocalPeriod {
  const next = shiftPeriodStart(unit, start, 1);
  return {
    unit,
    startDate: formatLocalDate(start),
    startMs: startOfLocalDateMs(timeZone, start),
    endMs: startOfLocalDateMs(timeZone, next),
    days: epochDay(next) - epochDay(start),
  };
}

/** The period of `unit` in `timeZone` that contains the instant. */
export function periodAt(unit: PeriodUnit, timeZone: string, instantMs: number): LocalPeriod {
  return periodStartingOn(unit, timeZone, periodStartDate(unit, localDateAt(timeZone, instantMs)));
}

// A customer's billing periods, as its own calendar counts them: a calendar month, or a month
// from an anniversary day to the same day of the next month. An anniversary past a month's last
// day falls on that last day (the 31st bills on 28 or 29 February, then on 31 March), so every
// period is one month long and no day is billed twice or never. Periods start at local midnight,
// whatever daylight saving time does to the hours between.
import { formatLocalDate, localDateAt, startOfLocalDateMs, type LocalDate } from '../catalog/local-calendar.js';

export interface BillingCycle {
  timeZone: string;
  /** 1 to 31, or null for calendar months (the same as 1). */
  anniversaryDay: number | null;
}

export interface BillingPeriod {
  /** Local dates, "YYYY-MM-DD"; `endDate` is the first day of the next period. */
  startDate: string;
  endDate: string;
  startMs: number;
  /** Exclusive. */
  endMs: number;
}

/** The billing period that contains the instant. */
export function billingPeriodAt(cycle: BillingCycle, instantMs: number): BillingPeriod {
  const today = localDateAt(cycle.timeZone, instantMs);
  const day = cycle.anniversaryDay ?? 1;
  // This month's billing day, or the previous month's when today is before it.
  const thisMonth = billingDayOf(today.year, today.month, day);
  const start = today.day >= thisMonth.day ? thisMonth : billingDayOf(...monthBefore(today.year, today.month), day);
  return periodFrom(cycle, start, day);
}

/** The period after `period`, for walking a range of them. */
export function nextBillingPeriod(cycle: BillingCycle, period: BillingPeriod): BillingPeriod {
  const [year, month] = period.endDate.split('-').map(Number) as [number, number];
  return periodFrom(cycle, billingDayOf(year, month, cycle.anniversaryDay ?? 1), cycle.anniversaryDay ?? 1);
}

function periodFrom(cycle: BillingCycle, start: LocalDate, day: number): BillingPeriod {
  const end = billingDayOf(...monthAfter(start.year, start.month), day);
  return {
    startDate: formatLocalDate(start),
    endDate: formatLocalDate(end),
    startMs: startOfLocalDateMs(cycle.timeZone, start),
    endMs: startOfLocalDateMs(cycle.timeZone, end),
  };
}

/** The anniversary `day` in a month, or the month's last day when it has fewer days. */
function billingDayOf(year: number, month: number, day: number): LocalDate {
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return { year, month, day: Math.min(day, lastDay) };
}

function monthBefore(year: number, month: number): [number, number] {
  return month === 1 ? [year - 1, 12] : [year, month - 1];
}

function monthAfter(year: number, month: number): [number, number] {
  return month === 12 ? [year + 1, 1] : [year, month + 1];
}

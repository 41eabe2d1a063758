// The recurring fees of a plan version as invoice lines for one period, without I/O. A fee per
// device makes a line for each device active in the period, a fee per customer one line. A
// prorated fee charges the share of the period's calendar days the device (or customer) was
// active on, counting a day it was active for any part of; one not prorated charges the whole
// amount for any day. Days are the customer's calendar days, so a month is 28 to 31 days long
// whatever DST does to its hours. Each line is rounded once, half-even to a micro-unit.
import { formatMicros } from '../money/amount.js';
import { Decimal } from '../rating/decimal.js';
import type { FeeDocument } from './catalog-document.js';
import { epochDay, localDateAt, periodAt, type LocalPeriod, formatLocalDate } from './local-calendar.js';

/** When a subscription was in force; `untilMs` exclusive, null while open-ended. */
export interface ActiveSpan {
  fromMs: number;
  untilMs: number | null;
}

export interface FeeRequest {
  fees: readonly FeeDocument[];
  customerId: string;
  timeZone: string;
  /** Lines are for the period of each fee (its month or year) that contains this instant. */
  atMs: number;
  customer: ActiveSpan;
  devices: readonly { id: string; active: ActiveSpan }[];
}

export interface FeeLine {
  fee: string;
  per: 'device' | 'customer';
  customerId: string;
  deviceId: string | null;
  /** Local dates; `periodEnd` is the first day after the period. */
  periodStart: string;
  periodEnd: string;
  activeDays: number;
  periodDays: number;
  /** Six decimals, in the plan's currency. */
  amount: string;
  amountMicros: bigint;
}

const MICROS_PER_UNIT = 1_000_000;

export function recurringFeeLines(request: FeeRequest): FeeLine[] {
  return request.fees.flatMap((fee) => {
    const period = periodAt(fee.period, request.timeZone, request.atMs);
    const holders = fee.per === 'device'
      ? request.devices.map((device) => ({ deviceId: device.id as string | null, active: device.active }))
      : [{ deviceId: null, active: request.customer }];
    return holders.flatMap(({ deviceId, active }) => {
      const activeDays = activeDaysIn(active, period, request.timeZone);
      return activeDays === 0 ? [] : [feeLine(fee, request.customerId, deviceId, period, activeDays, request.timeZone)];
    });
  });
}

/** When both spans are in force; it may be empty (from ≥ until). */
export function overlap(left: ActiveSpan, right: ActiveSpan): ActiveSpan {
  const untilMs = left.untilMs === null ? right.untilMs : right.untilMs === null ? left.untilMs : Math.min(left.untilMs, right.untilMs);
  return { fromMs: Math.max(left.fromMs, right.fromMs), untilMs };
}

/** Calendar days of the period on which the span was in force for any part of the day. */
export function activeDaysIn(span: ActiveSpan, period: LocalPeriod, timeZone: string): number {
  const fromMs = Math.max(span.fromMs, period.startMs);
  const untilMs = Math.min(span.untilMs ?? Number.POSITIVE_INFINITY, period.endMs);
  if (fromMs >= untilMs) return 0;
  return epochDay(localDateAt(timeZone, untilMs - 1)) - epochDay(localDateAt(timeZone, fromMs)) + 1;
}

function feeLine(fee: FeeDocument, customerId: string, deviceId: string | null, period: LocalPeriod, activeDays: number, timeZone: string): FeeLine {
  const [numerator, denominator] = fee.prorate ? [activeDays, period.days] : [1, 1];
  // Divided last, so the only inexact step is the one rounding; a tie is then exact and rounds to even.
  const micros = new Decimal(fee.amount).times(MICROS_PER_UNIT).times(numerator).dividedBy(denominator).toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN);
  const amountMicros = BigInt(micros.toFixed(0));
  return {
    fee: fee.name, per: fee.per, customerId, deviceId,
    periodStart: period.startDate, periodEnd: formatLocalDate(localDateAt(timeZone, period.endMs)),
    activeDays, periodDays: period.days, amount: formatMicros(amountMicros), amountMicros,
  };
}

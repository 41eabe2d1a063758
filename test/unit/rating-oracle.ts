// A reference model of rating, written straight from the policy and nothing like the engine:
// it walks every increment one by one, asks Intl for the wall clock at each, finds the band by
// reading every band's days, dates and clock times, the tier by reading the steps, and sums in
// decimal.js. Slow on purpose, so it only rates small usages; the property tests compare the
// engine with it.
import { Decimal } from '../../src/rating/decimal.js';
import type { RatingContext, Usage } from '../../src/rating/rate-usage.js';
import type { BandDocument, IntervalDocument, RateDocument, TariffDocument, TierStepDocument } from '../../src/rating/tariff-document.js';

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface WallClock {
  date: string;
  weekday: string;
  minutes: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function wallClock(timeZone: string, atMs: number): WallClock {
  let format = formats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', weekday: 'short' });
    formats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(atMs).map((part) => [part.type, part.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, weekday: parts.weekday!.toLowerCase(), minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

function dayBefore(date: string): { date: string; weekday: string } {
  const day = new Date(`${date}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() - 1);
  return { date: day.toISOString().slice(0, 10), weekday: WEEKDAYS[day.getUTCDay()]! };
}

function clockMinutes(clock: string | undefined, fallback: number): number {
  if (clock === undefined) return fallback;
  const [hours, minutes] = clock.split(':').map(Number);
  return hours! * 60 + minutes!;
}

function startsOn(band: BandDocument, date: string, weekday: string): boolean {
  if (band.dates !== undefined) return band.dates.includes(date);
  return band.days === undefined || band.days.includes(weekday as never);
}

function bandCovers(band: BandDocument, clock: WallClock): boolean {
  const from = clockMinutes(band.from, 0);
  const until = clockMinutes(band.until, 1440);
  if (from < until) return startsOn(band, clock.date, clock.weekday) && from <= clock.minutes && clock.minutes < until;
  const yesterday = dayBefore(clock.date);
  return (startsOn(band, clock.date, clock.weekday) && clock.minutes >= from) || (startsOn(band, yesterday.date, yesterday.weekday) && clock.minutes < until);
}

function bandAt(document: TariffDocument, atMs: number): string | undefined {
  const clock = wallClock(document.time_zone, atMs);
  let winner: BandDocument | undefined;
  for (const band of document.bands ?? []) if (bandCovers(band, clock) && (winner === undefined || band.weight > winner.weight)) winner = band;
  return winner?.name;
}

function priceIn(step: { price?: string; band_prices?: Record<string, string> }, band: string | undefined): Decimal {
  return new Decimal((band === undefined ? undefined : step.band_prices?.[band]) ?? step.price!);
}

/** Price per per_units of the increment starting at period position `periodUnits`. */
function tierPrice(interval: IntervalDocument, band: string | undefined, periodUnits: bigint): Decimal {
  const steps = interval.tiers?.steps;
  if (steps === undefined) return priceIn(interval, band);
  const tier = steps.findIndex((step) => step.up_to_units === undefined || periodUnits < BigInt(step.up_to_units));
  const price = priceIn(steps[tier]!, band);
  if (interval.tiers!.mode === 'graduated') return price;
  // Volume: what the period was charged by the end of each earlier tier, at that tier's price.
  const charged = steps.slice(0, tier).reduce((most: Decimal, step: TierStepDocument) => Decimal.max(most, priceIn(step, band).times(step.up_to_units!)), new Decimal(0));
  return price.times(periodUnits.toString()).lessThan(charged) ? new Decimal(0) : price;
}

function msOfUnit(usage: Usage, offsetUnits: bigint): number {
  if (usage.unit === 'seconds') return usage.startMs + Number(offsetUnits) * 1000;
  const spanMs = (usage.endMs ?? usage.startMs) - usage.startMs;
  return usage.startMs + Number((offsetUnits * BigInt(spanMs)) / (usage.units === 0n ? 1n : usage.units));
}

/** Connect fee (when due) plus every increment the charge starts, each priced where it starts. */
export function oracleExact(document: TariffDocument, rate: RateDocument, usage: Usage, context: RatingContext): Decimal {
  const before = context.sessionUnitsBefore;
  let total = before === 0n && usage.units > 0n ? new Decimal(rate.connect_fee) : new Decimal(0);
  for (let position = 0n, index = 0; position < before + usage.units;) {
    while (index + 1 < rate.intervals.length && BigInt(rate.intervals[index + 1]!.from_units) <= position) index++;
    const interval = rate.intervals[index]!;
    if (position >= before) {
      const band = bandAt(document, msOfUnit(usage, position - before));
      const price = tierPrice(interval, band, context.periodUnitsBefore + position - before);
      total = total.plus(price.times(interval.increment_units).dividedBy(interval.per_units));
    }
    position += BigInt(interval.increment_units);
  }
  return total;
}

const MODES = { up: Decimal.ROUND_CEIL, down: Decimal.ROUND_FLOOR, 'half-even': Decimal.ROUND_HALF_EVEN } as const;

function toMicros(amount: string | Decimal): bigint {
  return BigInt(new Decimal(amount).times(1_000_000).toFixed(0));
}

/** Rounded once, then the session's running total held within its minimum and maximum. */
export function oracleAmountMicros(document: TariffDocument, rate: RateDocument, usage: Usage, context: RatingContext): bigint {
  const rated = toMicros(oracleExact(document, rate, usage, context).toDecimalPlaces(document.rounding.decimals, MODES[document.rounding.mode]));
  if (usage.units === 0n || (rate.min_charge === undefined && rate.max_charge === undefined)) return rated;
  const clamp = (micros: bigint): bigint => {
    if (rate.min_charge !== undefined && micros < toMicros(rate.min_charge)) return toMicros(rate.min_charge);
    if (rate.max_charge !== undefined && micros > toMicros(rate.max_charge)) return toMicros(rate.max_charge);
    return micros;
  };
  const chargedBefore = context.sessionUnitsBefore === 0n ? 0n : clamp(context.sessionRatedMicrosBefore);
  return clamp(context.sessionRatedMicrosBefore + rated) - chargedBefore;
}

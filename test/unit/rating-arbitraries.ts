// fast-check generators of valid tariffs, usages and contexts, around the instants where the
// tariff's clock changes: DST in Berlin, New York and Lord Howe (which moves by 30 minutes);
// Kolkata's +05:30 and UTC have none, and get an ordinary Friday.
import fc from 'fast-check';
import { Decimal } from '../../src/rating/decimal.js';
import type { RatingContext, RatingGroupUnit, Usage } from '../../src/rating/rate-usage.js';
import type { BandDocument, IntervalDocument, RateDocument, TariffDocument, Weekday } from '../../src/rating/tariff-document.js';

const CLOCK_CHANGES: Record<string, string[]> = {
  'Europe/Berlin': ['2025-03-30T01:00Z', '2025-10-26T01:00Z'],
  'America/New_York': ['2025-03-09T07:00Z', '2025-11-02T06:00Z'],
  'Australia/Lord_Howe': ['2025-04-05T15:00Z', '2025-10-04T15:30Z'],
  'Asia/Kolkata': ['2025-06-06T12:00Z'],
  UTC: ['2025-06-06T12:00Z'],
};
const TIME_ZONES = Object.keys(CLOCK_CHANGES);
const WEEKDAYS: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const changesMs = (timeZone: string): number[] => CLOCK_CHANGES[timeZone]!.map((instant) => Date.parse(instant));
// Powers of 2 and 5 only, so the decimal oracle's sums are exact too.
const PER_UNITS = [1, 10, 100, 1000, 1024, 1_000_000];
const INCREMENTS = [1, 2, 5, 10, 64];

export const decimalString = (most: number, decimalsMax: number): fc.Arbitrary<string> =>
  fc.tuple(fc.integer({ min: 0, max: most }), fc.integer({ min: 0, max: decimalsMax })).map(([integer, decimals]) => new Decimal(integer).dividedBy(10 ** decimals).toFixed(decimals));

const clock = fc.integer({ min: 0, max: 47 }).map((half) => `${String(Math.floor(half / 2)).padStart(2, '0')}:${half % 2 === 0 ? '00' : '30'}`);

function dateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Weights differ, so bands never overlap at equal weight and every generated tariff is valid. */
const band = (timeZone: string, index: number): fc.Arbitrary<BandDocument> => fc.record({
  kind: fc.constantFrom('every day', 'days', 'dates'),
  days: fc.subarray(WEEKDAYS, { minLength: 1 }),
  dates: fc.subarray(changesMs(timeZone).flatMap((atMs) => [dateOf(atMs - DAY_MS), dateOf(atMs), dateOf(atMs + DAY_MS)]), { minLength: 1 }),
  from: fc.option(clock, { nil: undefined }),
  until: fc.option(clock, { nil: undefined }),
}).map(({ kind, days, dates, from, until }) => ({
  name: `band-${index}`,
  weight: index + 1,
  ...(kind === 'days' ? { days } : kind === 'dates' ? { dates } : {}),
  ...(from === undefined ? {} : { from }),
  ...(until === undefined || until === (from ?? '00:00') ? {} : { until }),
}));

const bands = (timeZone: string): fc.Arbitrary<BandDocument[]> =>
  fc.integer({ min: 0, max: 3 }).chain((count) => fc.tuple(...Array.from({ length: count }, (_, index) => band(timeZone, index))));

/** `count` prices, highest first when `falling` (volume tiers may only get cheaper). */
const prices = (count: number, falling: boolean): fc.Arbitrary<string[]> =>
  fc.array(decimalString(5000, 4), { minLength: count, maxLength: count }).map((list) => (falling ? [...list].sort((a, b) => new Decimal(b).comparedTo(a)) : list));

function pricing(bandNames: string[]): fc.Arbitrary<Pick<IntervalDocument, 'price' | 'band_prices' | 'tiers'>> {
  const priced = fc.subarray(bandNames);
  const flat = fc.record({ price: decimalString(5000, 4), priced, bandPrice: decimalString(5000, 4) })
    .map(({ price, priced: names, bandPrice }) => ({ price, ...(names.length === 0 ? {} : { band_prices: Object.fromEntries(names.map((name) => [name, bandPrice])) }) }));
  const tiered = fc.record({ mode: fc.constantFrom('graduated' as const, 'volume' as const), widths: fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 0, maxLength: 2 }), priced })
    .chain(({ mode, widths, priced: names }) => fc.tuple(prices(widths.length + 1, mode === 'volume'), ...names.map(() => prices(widths.length + 1, mode === 'volume'))).map(([base, ...perBand]) => {
      let upTo = 0;
      const steps = base.map((price, step) => ({
        ...(step < widths.length ? { up_to_units: (upTo += widths[step]!) } : {}),
        price,
        ...(names.length === 0 ? {} : { band_prices: Object.fromEntries(names.map((name, index) => [name, perBand[index]![step]!])) }),
      }));
      return { tiers: { mode, steps } };
    }));
  return fc.oneof(flat, tiered);
}

function intervals(bandNames: string[]): fc.Arbitrary<IntervalDocument[]> {
  const shape = fc.record({ increment: fc.constantFrom(...INCREMENTS), length: fc.integer({ min: 1, max: 4 }), perUnits: fc.constantFrom(...PER_UNITS), pricing: pricing(bandNames) });
  return fc.array(shape, { minLength: 1, maxLength: 3 }).map((shapes) => {
    let fromUnits = 0;
    return shapes.map((each, index) => {
      if (index > 0) fromUnits += shapes[index - 1]!.increment * shapes[index - 1]!.length;
      return { from_units: fromUnits, increment_units: each.increment, per_units: each.perUnits, ...each.pricing };
    });
  });
}

const rounding = fc.record({ mode: fc.constantFrom('up' as const, 'down' as const, 'half-even' as const), decimals: fc.integer({ min: 0, max: 6 }) });

/** Session limits on the rounding grid, minimum at most maximum. */
function limits(decimals: number): fc.Arbitrary<Pick<RateDocument, 'min_charge' | 'max_charge'>> {
  const grid = (steps: number): string => new Decimal(steps).dividedBy(10 ** decimals).toFixed(decimals);
  return fc.record({ minimum: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }), span: fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined }) })
    .map(({ minimum, span }) => ({
      ...(minimum === undefined ? {} : { min_charge: grid(minimum) }),
      ...(span === undefined ? {} : { max_charge: grid((minimum ?? 0) + span) }),
    }));
}

export interface Case {
  document: TariffDocument;
  usage: Usage;
  context: RatingContext;
}

export const RATING_GROUP = 1;

/** A tariff with one rate (selection has its own scenarios) using any mix of the rest. */
export const tariffDocument = (options: { bands?: boolean; limits?: boolean } = {}): fc.Arbitrary<TariffDocument> =>
  fc.constantFrom(...TIME_ZONES).chain((timeZone) => fc.record({
    timeZone: fc.constant(timeZone),
    bands: options.bands === false ? fc.constant<BandDocument[]>([]) : bands(timeZone),
    rounding,
    fee: fc.oneof(fc.constant('0'), decimalString(500, 3)),
  }))
    .chain(({ timeZone, bands: bandList, rounding: roundingRule, fee }) => fc.record({
      intervals: intervals(bandList.map((each) => each.name)),
      limits: options.limits === false ? fc.constant({}) : limits(roundingRule.decimals),
    }).map(({ intervals: intervalList, limits: limitFields }): TariffDocument => ({
      name: 'generated',
      currency: 'EUR',
      time_zone: timeZone,
      rounding: roundingRule,
      final_unit_action: 'terminate',
      ...(bandList.length === 0 ? {} : { bands: bandList }),
      rates: [{ rating_group: RATING_GROUP, connect_fee: fee, tier_scope: 'customer', intervals: intervalList, ...limitFields }],
    })));

/** An instant up to a day and a half before a clock change of the zone, or a few hours after. */
export const startMs = (timeZone = 'Europe/Berlin'): fc.Arbitrary<number> =>
  fc.tuple(fc.constantFrom(...changesMs(timeZone)), fc.integer({ min: -36 * HOUR_MS, max: 6 * HOUR_MS })).map(([changeMs, offsetMs]) => changeMs + offsetMs);

/** Seconds run up to about an hour; bytes and events are few, spread over up to 36 hours. */
export const usage = (unitsMax: number, units: fc.Arbitrary<RatingGroupUnit> = fc.constantFrom('bytes', 'seconds', 'events'), timeZone?: string): fc.Arbitrary<Usage> =>
  fc.record({ unit: units, count: fc.integer({ min: 0, max: unitsMax }), scale: fc.constantFrom(1, 1, 25), startMs: startMs(timeZone), spanMs: fc.option(fc.integer({ min: 0, max: 36 * HOUR_MS }), { nil: undefined }) })
    .map(({ unit, count, scale, startMs: start, spanMs }) => ({
      ratingGroup: RATING_GROUP, unit, units: BigInt(unit === 'seconds' ? count * scale : count), startMs: start, ...(spanMs === undefined || unit === 'seconds' ? {} : { endMs: start + spanMs }),
    }));

/** Where a usage falls; a session's earlier rated total is on the rounding grid, as sums of charges are. */
export const context = (decimals: number): fc.Arbitrary<RatingContext> =>
  fc.record({ sessionUnits: fc.integer({ min: 0, max: 100 }), periodUnits: fc.integer({ min: 0, max: 600 }), ratedSteps: fc.integer({ min: 0, max: 1000 }) })
    .map(({ sessionUnits, periodUnits, ratedSteps }) => ({
      sessionUnitsBefore: BigInt(sessionUnits),
      sessionRatedMicrosBefore: sessionUnits === 0 ? 0n : BigInt(ratedSteps) * 10n ** BigInt(6 - decimals),
      periodUnitsBefore: BigInt(periodUnits + sessionUnits),
    }));

export const ratingCase = (options: { unitsMax?: number; bands?: boolean; limits?: boolean; units?: fc.Arbitrary<RatingGroupUnit> } = {}): fc.Arbitrary<Case> =>
  tariffDocument(options).chain((document) => fc.record({
    document: fc.constant(document),
    usage: usage(options.unitsMax ?? 150, options.units, document.time_zone),
    context: context(document.rounding.decimals),
  }));

// Scenarios of the rating engine, each with its answer worked out by hand.
import { describe, expect, it } from 'vitest';
import { formatMicros } from '../../src/money/amount.js';
import { exactToDecimal } from '../../src/rating/exact-money.js';
import { affordableUsage, NEW_SESSION, rateUsage, type RatingContext, type Usage } from '../../src/rating/rate-usage.js';
import { contextAfter, rateAcrossVersions } from '../../src/rating/split-usage.js';
import { amountOf, GB, rated, tariffOf } from './rating-support.js';

const DATA = 10;
const VOICE = 20;

function bytes(units: number | bigint, periodUnitsBefore = 0, extra: Partial<Usage> = {}): [Usage, RatingContext] {
  return [{ ratingGroup: DATA, unit: 'bytes', units: BigInt(units), startMs: Date.UTC(2025, 5, 4, 12), ...extra }, { ...NEW_SESSION, periodUnitsBefore: BigInt(periodUnitsBefore) }];
}

function seconds(startMs: number, units: number, context: RatingContext = NEW_SESSION): [Usage, RatingContext] {
  return [{ ratingGroup: VOICE, unit: 'seconds', units: BigInt(units), startMs }, context];
}

/** Units per band (or tier) of a rating's lines, for reading a breakdown at a glance. */
function unitsBy(key: 'band' | 'tier', lines: { band: string | null; tier: number | null; units: bigint }[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const line of lines) totals[String(line[key])] = (totals[String(line[key])] ?? 0) + Number(line.units);
  return totals;
}

describe('tiers over the period', () => {
  const tiers = (mode: 'graduated' | 'volume', incrementUnits = 1_000_000) => tariffOf({
    rates: [{
      rating_group: DATA,
      intervals: [{
        increment_units: incrementUnits, per_units: GB,
        tiers: { mode, steps: [{ up_to_units: GB, price: '1.00' }, { up_to_units: 10 * GB, price: '0.50' }, { price: '0.20' }] },
      }],
    }],
  });

  it.each([
    ['within the first tier', 0, 0.5 * GB, '0.500000', { 0: 0.5 * GB }],
    ['across the first boundary', 0.5 * GB, GB, '0.750000', { 0: 0.5 * GB, 1: 0.5 * GB }],
    ['across the second boundary', 9.5 * GB, GB, '0.350000', { 1: 0.5 * GB, 2: 0.5 * GB }],
    ['across both boundaries at once', 0, 12 * GB, '5.900000', { 0: GB, 1: 9 * GB, 2: 2 * GB }],
  ])('graduated: %s', (_name, before, units, expected, byTier) => {
    const rating = rated(rateUsage(tiers('graduated'), ...bytes(units, before)));
    expect(formatMicros(rating.amountMicros)).toBe(expected);
    expect(unitsBy('tier', rating.lines)).toEqual(byTier);
  });

  it('graduated: an increment across a boundary is priced in the tier where it starts', () => {
    // 1 GB is not a whole number of KiB: the increment from 999,999,488 runs past it at 1.00.
    const rating = rated(rateUsage(tiers('graduated', 1024), ...bytes(2 * GB)));
    expect(rating.lines.map((line) => line.increments)).toEqual([976_563n, 976_562n]);
    expect(exactToDecimal(rating.exact).toString()).toBe('1.500000256');
    expect(formatMicros(rating.amountMicros)).toBe('1.500001');
  });

  it.each([
    ['the first GB', 0, GB, '1.000000'],
    ['the second GB: free while 0.50 × units catches up with the 1.00 charged', GB, GB, '0.000000'],
    ['the third GB', 2 * GB, GB, '0.500000'],
    ['12 GB at once: 10 GB at 0.50, then free until 0.20 × units reaches 5.00', 0, 12 * GB, '5.000000'],
    ['the 26th GB, past the catch-up', 25 * GB, GB, '0.200000'],
  ])('volume: %s', (_name, before, units, expected) => {
    expect(amountOf(rateUsage(tiers('volume'), ...bytes(units, before)))).toBe(expected);
  });

  it('volume: the breakdown shows the catch-up stretches', () => {
    const rating = rated(rateUsage(tiers('volume'), ...bytes(12 * GB)));
    expect(rating.lines.map((line) => [line.tier, line.catchUp, Number(line.units) / GB, exactToDecimal(line.amount).toString()])).toEqual([
      [0, false, 1, '1'], [1, true, 1, '0'], [1, false, 8, '4'], [2, true, 2, '0'],
    ]);
  });
});

// Europe/Berlin: UTC+2 in summer (CEST), UTC+1 in winter (CET).
const bandedVoice = (bands: Record<string, unknown>[], bandPrices: Record<string, string>) => tariffOf({
  time_zone: 'Europe/Berlin',
  rounding: { mode: 'up', decimals: 4 },
  bands,
  // 0.01 per second by day; band prices per minute.
  rates: [{ rating_group: VOICE, intervals: [{ increment_units: 1, per_units: 60, price: '0.60', band_prices: bandPrices }] }],
});
const NIGHT = { name: 'night', weight: 10, from: '22:00', until: '06:00' };
const WEEKEND = { name: 'weekend', weight: 20, days: ['sat', 'sun'] };
const HOLIDAY = { name: 'holiday', weight: 30, dates: ['2025-12-25'] };
const calendarTariff = bandedVoice([NIGHT, WEEKEND, HOLIDAY], { night: '0.30', weekend: '0.12', holiday: '0.06' });

describe('time bands', () => {
  it.each([
    // 2025-06-06 is a Friday.
    ['from day into night', Date.UTC(2025, 5, 4, 19, 30), 3600, '27.000000', { null: 1800, night: 1800 }],
    ['through midnight inside the night', Date.UTC(2025, 5, 3, 21, 30), 3600, '18.000000', { night: 3600 }],
    ['Friday night into the weekend', Date.UTC(2025, 5, 6, 21, 30), 3600, '12.600000', { night: 1800, weekend: 1800 }],
    ['Sunday into Monday night', Date.UTC(2025, 5, 8, 21, 30), 3600, '12.600000', { weekend: 1800, night: 1800 }],
    ['Christmas Eve night into Christmas', Date.UTC(2025, 11, 24, 22, 30), 3600, '10.800000', { night: 1800, holiday: 1800 }],
    ['out of Christmas into the night of the 26th', Date.UTC(2025, 11, 25, 22, 30), 3600, '10.800000', { holiday: 1800, night: 1800 }],
  ])('%s', (_name, startMs, units, expected, byBand) => {
    const rating = rated(rateUsage(calendarTariff, ...seconds(startMs, units)));
    expect(formatMicros(rating.amountMicros)).toBe(expected);
    expect(unitsBy('band', rating.lines)).toEqual(byBand);
  });

  it('spreads bytes evenly over the report and splits them where the band changes', () => {
    const tariff = tariffOf({
      time_zone: 'Europe/Berlin', bands: [NIGHT],
      rates: [{ rating_group: DATA, intervals: [{ increment_units: 1, per_units: GB, price: '1.00', band_prices: { night: '0.25' } }] }],
    });
    // 21:00 to 23:00 CEST: half the bytes by day, half at night.
    const usage: Usage = { ratingGroup: DATA, unit: 'bytes', units: BigInt(4 * GB), startMs: Date.UTC(2025, 5, 4, 19), endMs: Date.UTC(2025, 5, 4, 21) };
    const rating = rated(rateUsage(tariff, usage, NEW_SESSION));
    expect(unitsBy('band', rating.lines)).toEqual({ null: 2 * GB, night: 2 * GB });
    expect(formatMicros(rating.amountMicros)).toBe('2.500000');
    // Without an end, all units are at the start: by day.
    expect(amountOf(rateUsage(tariff, { ...usage, endMs: undefined }, NEW_SESSION))).toBe('4.000000');
  });

  describe('DST in Europe/Berlin', () => {
    const nightOnly = bandedVoice([NIGHT], { night: '0.30' });

    it('the night of the last Sunday of March is 7 hours long', () => {
      // 21:00 CET Saturday 29 March for 10 hours, to 08:00 CEST.
      const rating = rated(rateUsage(nightOnly, ...seconds(Date.UTC(2025, 2, 29, 20), 10 * 3600)));
      expect(unitsBy('band', rating.lines)).toEqual({ null: 3 * 3600, night: 7 * 3600 });
    });

    it('the night of the last Sunday of October is 9 hours long', () => {
      // 21:00 CEST Saturday 25 October for 12 hours, to 08:00 CET.
      const rating = rated(rateUsage(nightOnly, ...seconds(Date.UTC(2025, 9, 25, 19), 12 * 3600)));
      expect(unitsBy('band', rating.lines)).toEqual({ null: 3 * 3600, night: 9 * 3600 });
    });

    it('a band starting in the skipped hour starts when the clock jumps past it', () => {
      const early = bandedVoice([{ name: 'early', weight: 10, days: ['sun'], from: '02:30', until: '05:00' }], { early: '0.30' });
      // 02:30 does not exist on 30 March: the band runs 03:00-05:00 CEST, 01:00-03:00 UTC.
      const rating = rated(rateUsage(early, ...seconds(Date.UTC(2025, 2, 30, 0), 4 * 3600)));
      expect(rating.lines.map((line) => [line.band, Number(line.fromUnits), Number(line.units)])).toEqual([[null, 0, 3600], ['early', 3600, 7200], [null, 10_800, 3600]]);
    });

    it('a band over the repeated hour is in force both times the clock reads it', () => {
      const early = bandedVoice([{ name: 'early', weight: 10, days: ['sun'], from: '02:30', until: '05:00' }], { early: '0.30' });
      // 26 October: 02:30-03:00 CEST, then 02:30-05:00 CET; not 02:00-02:30 CET.
      const rating = rated(rateUsage(early, ...seconds(Date.UTC(2025, 9, 25, 23), 6 * 3600)));
      expect(rating.lines.map((line) => [line.band, Number(line.units) / 60])).toEqual([[null, 90], ['early', 30], [null, 30], ['early', 150], [null, 60]]);
    });
  });
});

describe('zones', () => {
  const zoned = (withDefault: boolean) => tariffOf({
    zones: [
      { name: 'home', networks: ['262-01', '208-01'] },
      { name: 'eu', networks: ['208'], location_ids: ['eu'] },
      ...(withDefault ? [{ name: 'world' }] : []),
    ],
    ...(withDefault ? { default_zone: 'world' } : {}),
    rates: [
      { rating_group: DATA, zones: ['home'], intervals: [{ increment_units: 1, per_units: GB, price: '1.00' }] },
      { rating_group: DATA, zones: ['eu'], intervals: [{ increment_units: 1, per_units: GB, price: '2.00' }] },
      ...(withDefault ? [{ rating_group: DATA, zones: ['world'], intervals: [{ increment_units: 1, per_units: GB, price: '10.00' }] }] : []),
    ],
  });
  const at = (location: Usage['location']) => bytes(GB, 0, { location });

  it.each([
    ['a home network', { mcc: '262', mnc: '01' }, 'home', false, '1.000000'],
    ['a network priced as home inside a roaming country', { mcc: '208', mnc: '01' }, 'home', false, '1.000000'],
    ['another network of a roaming country', { mcc: '208', mnc: '15' }, 'eu', false, '2.000000'],
    ['a zone id from the gateway', { zoneId: 'eu' }, 'eu', false, '2.000000'],
    ['an unknown network: the default zone', { mcc: '310', mnc: '410' }, 'world', true, '10.000000'],
    ['no location: the default zone', undefined, 'world', true, '10.000000'],
  ])('%s', (_name, location, zone, fallback, expected) => {
    const rating = rated(rateUsage(zoned(true), ...at(location)));
    expect([rating.zone, rating.zoneFallback, formatMicros(rating.amountMicros)]).toEqual([zone, fallback, expected]);
  });

  it('an unknown location without a default zone: rating failed', () => {
    expect(rateUsage(zoned(false), ...at({ mcc: '310', mnc: '410' }))).toEqual({
      ok: false, reason: 'unknown-location', message: 'no zone of the tariff holds location 310-410, and it has no default zone',
    });
  });
});

describe('features', () => {
  const price = (value: string) => [{ increment_units: 1, per_units: GB, price: value }];
  const featured = tariffOf({
    zones: [{ name: 'home', networks: ['262-01'] }, { name: 'eu', networks: ['208'] }],
    rates: [
      { rating_group: DATA, intervals: price('1.00') },
      { rating_group: DATA, qos_class: 9, intervals: price('0.90') },
      { rating_group: DATA, apn: 'iot.m2m', intervals: price('0.80') },
      { rating_group: DATA, service_id: 7, intervals: price('0.60') },
      { rating_group: DATA, service_id: 7, device_type: 'meter', intervals: price('0.40') },
      { rating_group: DATA, zones: ['eu'], intervals: price('2.00') },
      { rating_group: VOICE, apn: 'voice.m2m', intervals: price('1.00') },
    ],
  });
  const home = { mcc: '262', mnc: '01' };

  it.each([
    ['none: the general rate', {}, home, 0, '1.000000'],
    ['an APN', { apn: 'iot.m2m' }, home, 2, '0.800000'],
    ['an unknown APN falls back to the general rate', { apn: 'other' }, home, 0, '1.000000'],
    ['a service id beats an APN', { apn: 'iot.m2m', serviceId: 7 }, home, 3, '0.600000'],
    ['an APN beats a QoS class', { apn: 'iot.m2m', qosClass: 9 }, home, 2, '0.800000'],
    ['service id and device type beat the service id alone', { serviceId: 7, deviceType: 'meter' }, home, 4, '0.400000'],
    ['a zone beats every feature', { serviceId: 7, deviceType: 'meter' }, { mcc: '208', mnc: '10' }, 5, '2.000000'],
  ])('%s', (_name, attributes, location, rate, expected) => {
    const rating = rated(rateUsage(featured, ...bytes(GB, 0, { attributes, location })));
    expect([rating.rate, formatMicros(rating.amountMicros)]).toEqual([rate, expected]);
  });

  it('no rate for the features and no general rate: rating failed', () => {
    expect(rateUsage(featured, { ratingGroup: VOICE, unit: 'seconds', units: 1n, startMs: 0, location: home, attributes: { apn: 'other' } }, NEW_SESSION))
      .toEqual({ ok: false, reason: 'no-rate', message: 'the tariff prices rating group 20 in zone "home" with none of these features' });
  });
});

/** Rates the parts of one session in turn, as commits would. */
function session(tariff: ReturnType<typeof tariffOf>, parts: number[]): string[] {
  let context = NEW_SESSION;
  return parts.map((units) => {
    const [usage] = seconds(Date.UTC(2025, 5, 4, 12), units, context);
    const rating = rated(rateUsage(tariff, usage, context));
    context = contextAfter(context, usage.units, rating);
    return `${formatMicros(rating.amountMicros)}${rating.limit === null ? '' : ` ${rating.limit}`}`;
  });
}

describe('session limits and intervals', () => {
  it('holds a session between its minimum and maximum across its charges', () => {
    const limited = tariffOf({
      rates: [{ rating_group: VOICE, connect_fee: '0.10', min_charge: '0.50', max_charge: '2.00', intervals: [{ increment_units: 1, per_units: 1, price: '0.01' }] }],
    });
    // Rated 0.20, 0.20, 0.30, 2.00, 1.00: running totals 0.20, 0.40, 0.70, 2.70, 3.70.
    expect(session(limited, [10, 20, 30, 200, 100])).toEqual(['0.500000 minimum', '0.000000 minimum', '0.200000', '1.300000 maximum', '0.000000 maximum']);
  });

  const minuteThenSeconds = tariffOf({
    rates: [{
      rating_group: VOICE,
      intervals: [{ increment_units: 60, per_units: 60, price: '0.20' }, { from_units: 60, increment_units: 1, per_units: 60, price: '0.10' }],
    }],
  });

  it.each([
    [45, '0.200000'],
    [60, '0.200000'],
    [61, '0.201667'],
    [90, '0.250000'],
  ])('first minute whole, then per second: %i s', (units, expected) => {
    expect(session(minuteThenSeconds, [units])).toEqual([expected]);
  });

  it('a session does not pay twice for an increment it started', () => {
    // 20 s opens the first minute; 25 s more are inside it; 30 s more reach 75 s: 15 s past it.
    expect(session(minuteThenSeconds, [20, 25, 30])).toEqual(['0.200000', '0.000000', '0.025000']);
  });

  it('charges the connect fee and the minimum with a session\'s first units only', () => {
    const feed = tariffOf({ rates: [{ rating_group: VOICE, connect_fee: '0.10', intervals: [{ increment_units: 1, per_units: 1, price: '0.01' }] }] });
    expect(session(feed, [0, 5, 5])).toEqual(['0.000000', '0.150000', '0.050000']);
  });
});

describe('reservations and price enquiries', () => {
  const graduated = tariffOf({
    rates: [{
      rating_group: DATA, connect_fee: '0.05',
      intervals: [{ increment_units: 1_000_000, per_units: GB, tiers: { mode: 'graduated', steps: [{ up_to_units: GB, price: '1.00' }, { price: '0.50' }] } }],
    }],
  });

  it('prices a request at the customer\'s current tier position', () => {
    expect(amountOf(rateUsage(graduated, ...bytes(GB, 0.5 * GB)))).toBe('0.800000');
  });

  it('finds the most a budget buys across tiers, in whole increments', () => {
    // 0.05 fee + 0.5 GB at 1.00 leaves 0.45: 0.9 GB more at 0.50.
    const found = affordableUsage(graduated, ...bytes(3 * GB, 0.5 * GB), 1_000_000n);
    expect(found.ok && [found.units, formatMicros(found.rating.amountMicros)]).toEqual([1_400_000_000n, '1.000000']);
  });

  it('finds the seconds a budget buys across a band change', () => {
    // 21:50 CEST: 600 s by day at 0.01 (6.00), then 0.005 at night: 1.50 more buys 300 s.
    const found = affordableUsage(calendarTariff, ...seconds(Date.UTC(2025, 5, 4, 19, 50), 1200), 7_500_000n);
    expect(found.ok && [found.units, formatMicros(found.rating.amountMicros)]).toEqual([900n, '7.500000']);
  });

  it('grants the whole request when the budget covers it, and nothing when it covers no increment', () => {
    const all = affordableUsage(graduated, ...bytes(GB), 5_000_000n);
    expect(all.ok && [all.units, formatMicros(all.rating.amountMicros)]).toEqual([BigInt(GB), '1.050000']);
    const none = affordableUsage(graduated, ...bytes(GB), 50_000n);
    expect(none.ok && [none.units, none.rating.amountMicros]).toEqual([0n, 0n]);
  });

  it('explains a price: rate, zone, intervals, bands and tiers', () => {
    const rating = rated(rateUsage(calendarTariff, ...seconds(Date.UTC(2025, 5, 4, 19, 59), 120)));
    expect(rating).toMatchObject({
      rate: 0, zone: null, limit: null, connectFee: null,
      lines: [
        { interval: 0, band: null, tier: null, fromUnits: 0n, units: 60n, increments: 60n, price: '0.60', perUnits: 60n },
        { interval: 0, band: 'night', tier: null, fromUnits: 60n, units: 60n, increments: 60n, price: '0.30', perUnits: 60n },
      ],
    });
    expect(rating.lines.map((line) => exactToDecimal(line.amount).toString())).toEqual(['0.6', '0.3']);
  });
});

describe('tariff versions', () => {
  const flat = (price: string) => tariffOf({ rates: [{ rating_group: DATA, intervals: [{ increment_units: 1, per_units: GB, price }] }] });

  it('splits a report at the new version\'s effective time and rates each part with its version', () => {
    const usage: Usage = { ratingGroup: DATA, unit: 'bytes', units: BigInt(2 * GB), startMs: Date.UTC(2025, 5, 30, 23), endMs: Date.UTC(2025, 6, 1, 1) };
    const versions = [{ effectiveFromMs: Date.UTC(2025, 0, 1), tariff: flat('1.00') }, { effectiveFromMs: Date.UTC(2025, 6, 1), tariff: flat('0.50') }];
    const result = rateAcrossVersions(versions, usage, NEW_SESSION);
    if (!result.ok) throw new Error(result.message);
    expect(result.parts.map((part) => [part.version, Number(part.usage.units) / GB, formatMicros(part.rating.amountMicros)])).toEqual([[0, 1, '1.000000'], [1, 1, '0.500000']]);
    expect(formatMicros(result.amountMicros)).toBe('1.500000');
    expect(result.context).toEqual({ sessionUnitsBefore: BigInt(2 * GB), sessionRatedMicrosBefore: 1_500_000n, periodUnitsBefore: BigInt(2 * GB) });
  });

  it('rates a usage inside one version with that version alone', () => {
    const usage: Usage = { ratingGroup: DATA, unit: 'bytes', units: BigInt(GB), startMs: Date.UTC(2025, 6, 2) };
    const versions = [{ effectiveFromMs: Date.UTC(2025, 0, 1), tariff: flat('1.00') }, { effectiveFromMs: Date.UTC(2025, 6, 1), tariff: flat('0.50') }];
    const result = rateAcrossVersions(versions, usage, NEW_SESSION);
    expect(result.ok && result.parts.map((part) => part.version)).toEqual([1]);
  });
});

it('rates a terabyte in as few steps as a kilobyte', () => {
  const tariff = tariffOf({
    time_zone: 'Europe/Berlin', bands: [NIGHT],
    rates: [{ rating_group: DATA, intervals: [{ increment_units: 1, per_units: GB, tiers: { mode: 'graduated', steps: [{ up_to_units: GB, price: '1' }, { price: '0.5', band_prices: { night: '0.25' } }] } }] }],
  });
  const span = { startMs: Date.UTC(2025, 5, 4, 19), endMs: Date.UTC(2025, 5, 4, 21) };
  const kilobyte = rated(rateUsage(tariff, ...bytes(1000, 0, span)));
  const terabyte = rated(rateUsage(tariff, ...bytes(1000 * GB, 0, span)));
  expect([kilobyte.lines.length, terabyte.lines.length]).toEqual([2, 3]);
  // 1 GB at 1.00, 499 GB at 0.50 by day, 500 GB at 0.25 at night.
  expect(formatMicros(terabyte.amountMicros)).toBe('375.500000');
});

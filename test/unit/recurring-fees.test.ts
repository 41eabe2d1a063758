// Recurring fees as invoice lines: a line per active device and one per customer, prorated by
// the calendar days active in months of 28 to 31 days and years of 365 or 366, in the customer's
// time zone, each rounded once, half-even to a micro-unit.
import { describe, expect, it } from 'vitest';
import type { FeeDocument } from '../../src/catalog/catalog-document.js';
import { recurringFeeLines, type FeeRequest } from '../../src/catalog/recurring-fees.js';

const deviceFee: FeeDocument = { name: 'device-access', per: 'device', period: 'month', amount: '1.50', prorate: true };
const platformFee: FeeDocument = { name: 'platform', per: 'customer', period: 'month', amount: '49.00', prorate: false };
const always = { fromMs: Date.parse('2020-01-01T00:00:00Z'), untilMs: null };
const from = (text: string) => ({ fromMs: Date.parse(text), untilMs: null });

function lines(patch: Partial<FeeRequest>) {
  return recurringFeeLines({
    fees: [deviceFee], customerId: 'acme', timeZone: 'UTC', atMs: Date.parse('2026-02-10T00:00:00Z'), customer: always, devices: [], ...patch,
  });
}

describe('recurringFeeLines', () => {
  it('charges a device active all month the whole fee, and one active half of February half of it', () => {
    expect(lines({ devices: [{ id: 'dev-1', active: always }, { id: 'dev-2', active: from('2026-02-15T00:00:00Z') }] })).toEqual([
      {
        fee: 'device-access', per: 'device', customerId: 'acme', deviceId: 'dev-1', periodStart: '2026-02-01', periodEnd: '2026-03-01',
        activeDays: 28, periodDays: 28, amount: '1.500000', amountMicros: 1_500_000n,
      },
      {
        fee: 'device-access', per: 'device', customerId: 'acme', deviceId: 'dev-2', periodStart: '2026-02-01', periodEnd: '2026-03-01',
        activeDays: 14, periodDays: 28, amount: '0.750000', amountMicros: 750_000n,
      },
    ]);
  });

  it.each([
    ['February 2026 (28 days), from the 15th', '2026-02-10T00:00:00Z', '2026-02-15T00:00:00Z', 14, 28, '0.750000'],
    ['February 2028 (29 days), from the 15th', '2028-02-10T00:00:00Z', '2028-02-15T00:00:00Z', 15, 29, '0.775862'],
    ['April (30 days), from the 16th', '2026-04-30T00:00:00Z', '2026-04-16T00:00:00Z', 15, 30, '0.750000'],
    ['March (31 days), from the 15th', '2026-03-01T00:00:00Z', '2026-03-15T00:00:00Z', 17, 31, '0.822581'],
    ['March, from its last minute: one day', '2026-03-01T00:00:00Z', '2026-03-31T23:59:00Z', 1, 31, '0.048387'],
  ])('prorates by day in %s', (_name, at, activeFrom, activeDays, periodDays, amount) => {
    const [line] = lines({ atMs: Date.parse(at), devices: [{ id: 'dev-1', active: from(activeFrom) }] });
    expect(line).toMatchObject({ activeDays, periodDays, amount });
  });

  it('counts a day the device was active for any part of, up to the end of its subscription', () => {
    const active = { fromMs: Date.parse('2026-03-03T18:00:00Z'), untilMs: Date.parse('2026-03-10T14:00:00Z') };
    expect(lines({ atMs: Date.parse('2026-03-20T00:00:00Z'), devices: [{ id: 'dev-1', active }] })[0]).toMatchObject({ activeDays: 8, amount: '0.387097' });
    const endsAtMidnight = { fromMs: Date.parse('2026-03-03T00:00:00Z'), untilMs: Date.parse('2026-03-10T00:00:00Z') };
    expect(lines({ atMs: Date.parse('2026-03-20T00:00:00Z'), devices: [{ id: 'dev-1', active: endsAtMidnight }] })[0]).toMatchObject({ activeDays: 7 });
  });

  it('counts days in the customer\'s time zone, a DST month being 31 days', () => {
    // 00:30 on 29 March in Paris is 23:30 on the 28th in UTC; the change to summer time that night does not shorten the count.
    const [line] = lines({ timeZone: 'Europe/Paris', atMs: Date.parse('2026-03-15T00:00:00Z'), devices: [{ id: 'dev-1', active: from('2026-03-28T23:30:00Z') }] });
    expect(line).toMatchObject({ periodStart: '2026-03-01', periodEnd: '2026-04-01', activeDays: 3, periodDays: 31, amount: '0.145161' });
  });

  it('leaves out devices not active in the period', () => {
    const ended = { fromMs: Date.parse('2026-01-01T00:00:00Z'), untilMs: Date.parse('2026-02-01T00:00:00Z') };
    expect(lines({ devices: [{ id: 'gone', active: ended }, { id: 'new', active: from('2026-03-01T00:00:00Z') }] })).toEqual([]);
  });

  it('charges a fee not prorated in full for any active day, once per customer', () => {
    expect(lines({ fees: [platformFee], customer: from('2026-02-27T12:00:00Z'), devices: [{ id: 'dev-1', active: always }] })).toEqual([
      expect.objectContaining({ fee: 'platform', per: 'customer', deviceId: null, activeDays: 2, amount: '49.000000' }),
    ]);
  });

  it('prorates a yearly fee by the days of a leap year', () => {
    const yearly: FeeDocument = { name: 'sim-licence', per: 'device', period: 'year', amount: '12.00', prorate: true };
    const [line] = lines({ fees: [yearly], atMs: Date.parse('2028-02-01T00:00:00Z'), devices: [{ id: 'dev-1', active: from('2028-07-01T00:00:00Z') }] });
    expect(line).toMatchObject({ periodStart: '2028-01-01', periodEnd: '2029-01-01', activeDays: 184, periodDays: 366, amount: '6.032787' });
  });

  it('rounds a tie half-even, once per line', () => {
    const tiny = (amount: string): FeeDocument => ({ ...deviceFee, amount });
    const half = [{ id: 'dev-1', active: from('2026-02-15T00:00:00Z') }];
    expect(lines({ fees: [tiny('0.000001'), tiny('0.000003')], devices: half }).map((line) => line.amount)).toEqual(['0.000000', '0.000002']);
  });
});

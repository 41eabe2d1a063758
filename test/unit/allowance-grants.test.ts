// The allowances a plan grants each period, with exact periods: months of 28, 29, 30 and 31 days,
// a time zone with DST changes, weeks from Monday, rollover capped by its maximum, and ids that
// make writing the grants idempotent.
import { describe, expect, it } from 'vitest';
import { allowanceGrantsAt, grantId, type GrantRequest } from '../../src/catalog/allowance-grants.js';
import type { AllowanceDocument } from '../../src/catalog/catalog-document.js';
import { periodAt, startOfLocalDateMs } from '../../src/catalog/local-calendar.js';

const MB = 1_000_000;
const deviceData: AllowanceDocument = {
  name: 'device-data', rating_group: 1, units: 500 * MB, scope: 'device', period: 'month', priority: 10, validity_periods: 1, rollover_max_units: 250 * MB,
};
const fleetData: AllowanceDocument = {
  name: 'fleet-data', rating_group: 1, units: 100_000 * MB, scope: 'customer', period: 'month', priority: 5, validity_periods: 1, rollover_max_units: 0,
};

function request(patch: Partial<GrantRequest>): GrantRequest {
  return {
    planId: 'iot-fleet', customerId: 'acme', deviceIds: ['dev-1', 'dev-2'], allowances: [deviceData, fleetData],
    timeZone: 'UTC', atMs: Date.parse('2026-03-10T12:00:00Z'), unusedUnitsByGrantId: new Map(), ...patch,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('allowanceGrantsAt', () => {
  it('grants each device its own and the customer one pool, for the month, with ids of plan, allowance, holder and period', () => {
    const grants = allowanceGrantsAt(request({}));
    expect(grants.map((grant) => ({ ...grant, validFrom: iso(grant.validFromMs), validUntil: iso(grant.validUntilMs) }))).toEqual([
      {
        id: 'iot-fleet:device-data:dev-1:2026-03-01', customerId: 'acme', deviceId: 'dev-1', ratingGroup: 1, unitsTotal: 500_000_000n, rolloverUnits: 0n,
        priority: 10, validFromMs: Date.parse('2026-03-01T00:00:00Z'), validUntilMs: Date.parse('2026-04-01T00:00:00Z'), periodStart: '2026-03-01',
        validFrom: '2026-03-01T00:00:00.000Z', validUntil: '2026-04-01T00:00:00.000Z',
      },
      expect.objectContaining({ id: 'iot-fleet:device-data:dev-2:2026-03-01', deviceId: 'dev-2', unitsTotal: 500_000_000n }),
      expect.objectContaining({ id: 'iot-fleet:fleet-data:acme:2026-03-01', deviceId: null, unitsTotal: 100_000_000_000n, priority: 5 }),
    ]);
  });

  it('gives the same grants, ids included, at any instant of the period', () => {
    const early = allowanceGrantsAt(request({ atMs: Date.parse('2026-03-01T00:00:00Z') }));
    const late = allowanceGrantsAt(request({ atMs: Date.parse('2026-03-31T23:59:59.999Z') }));
    expect(late).toEqual(early);
  });

  it.each([
    ['February 2026, 28 days', '2026-02-14T00:00:00Z', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z', 28],
    ['February 2028, 29 days', '2028-02-29T23:00:00Z', '2028-02-01T00:00:00Z', '2028-03-01T00:00:00Z', 29],
    ['April 2026, 30 days', '2026-04-30T23:59:59Z', '2026-04-01T00:00:00Z', '2026-05-01T00:00:00Z', 30],
    ['December 2026, 31 days, into the next year', '2026-12-31T12:00:00Z', '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z', 31],
  ])('a month: %s', (_name, at, from, until, days) => {
    const [grant] = allowanceGrantsAt(request({ atMs: Date.parse(at) }));
    expect([iso(grant!.validFromMs), iso(grant!.validUntilMs)]).toEqual([new Date(from).toISOString(), new Date(until).toISOString()]);
    expect(periodAt('month', 'UTC', Date.parse(at)).days).toBe(days);
  });

  it.each([
    ['March, 31 days of 743 hours (summer time starts on the 29th)', '2026-03-15T12:00:00Z', '2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z', 743],
    ['October, 31 days of 745 hours (summer time ends on the 25th)', '2026-10-15T12:00:00Z', '2026-09-30T22:00:00.000Z', '2026-10-31T23:00:00.000Z', 745],
    ['November: the first hour of 1 November in Paris is still 31 October in UTC', '2026-10-31T23:30:00Z', '2026-10-31T23:00:00.000Z', '2026-11-30T23:00:00.000Z', 720],
  ])('a month in Europe/Paris: %s', (_name, at, from, until, hours) => {
    const [grant] = allowanceGrantsAt(request({ timeZone: 'Europe/Paris', atMs: Date.parse(at) }));
    expect([iso(grant!.validFromMs), iso(grant!.validUntilMs)]).toEqual([from, until]);
    expect((grant!.validUntilMs - grant!.validFromMs) / 3_600_000).toBe(hours);
  });

  it('a day in Europe/Paris is 23 hours when summer time starts, and a week runs from Monday', () => {
    const daily = { ...deviceData, period: 'day' as const };
    const [day] = allowanceGrantsAt(request({ timeZone: 'Europe/Paris', allowances: [daily], deviceIds: ['dev-1'], atMs: Date.parse('2026-03-29T12:00:00Z') }));
    expect([day!.id, iso(day!.validFromMs), iso(day!.validUntilMs)]).toEqual(['iot-fleet:device-data:dev-1:2026-03-29', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
    const weekly = { ...deviceData, period: 'week' as const };
    const [week] = allowanceGrantsAt(request({ timeZone: 'Europe/Paris', allowances: [weekly], deviceIds: ['dev-1'], atMs: Date.parse('2026-11-29T22:59:59Z') }));
    expect([week!.periodStart, iso(week!.validFromMs), iso(week!.validUntilMs)]).toEqual(['2026-11-23', '2026-11-22T23:00:00.000Z', '2026-11-29T23:00:00.000Z']);
  });

  it('a day starts when DST skips its midnight (America/Santiago, 6 September 2026 starts at 01:00)', () => {
    expect(iso(startOfLocalDateMs('America/Santiago', { year: 2026, month: 9, day: 6 }))).toBe('2026-09-06T04:00:00.000Z');
    expect(iso(startOfLocalDateMs('America/Santiago', { year: 2026, month: 9, day: 7 }))).toBe('2026-09-07T03:00:00.000Z');
    expect(periodAt('day', 'America/Santiago', Date.parse('2026-09-06T12:00:00Z'))).toMatchObject({ startDate: '2026-09-06', days: 1 });
  });

  it.each([
    ['less unused than the cap: all of it', 100 * MB, 600 * MB, 100 * MB],
    ['more unused than the cap: the cap', 300 * MB, 750 * MB, 250 * MB],
    ['nothing unused', 0, 500 * MB, 0],
  ])('rolls over %s', (_name, unused, total, rollover) => {
    const unusedUnitsByGrantId = new Map([[grantId('iot-fleet', 'device-data', 'dev-1', '2026-02-01'), BigInt(unused)]]);
    const [dev1, dev2] = allowanceGrantsAt(request({ unusedUnitsByGrantId }));
    expect([dev1!.unitsTotal, dev1!.rolloverUnits]).toEqual([BigInt(total), BigInt(rollover)]);
    expect([dev2!.unitsTotal, dev2!.rolloverUnits]).toEqual([500_000_000n, 0n]);
  });

  it('rolls nothing over where the maximum is 0', () => {
    const unusedUnitsByGrantId = new Map([[grantId('iot-fleet', 'fleet-data', 'acme', '2026-02-01'), 40_000n * BigInt(MB)]]);
    expect(allowanceGrantsAt(request({ unusedUnitsByGrantId }))[2]).toMatchObject({ unitsTotal: 100_000_000_000n, rolloverUnits: 0n });
  });

  it('keeps a grant valid for validity_periods periods, and rolls over the one that ends as this one starts', () => {
    const twoMonths = { ...deviceData, validity_periods: 2 };
    const unusedUnitsByGrantId = new Map([
      [grantId('iot-fleet', 'device-data', 'dev-1', '2026-01-01'), 200n * BigInt(MB)],
      [grantId('iot-fleet', 'device-data', 'dev-1', '2026-02-01'), 400n * BigInt(MB)],
    ]);
    const [grant] = allowanceGrantsAt(request({ allowances: [twoMonths], deviceIds: ['dev-1'], unusedUnitsByGrantId }));
    expect([iso(grant!.validFromMs), iso(grant!.validUntilMs)]).toEqual(['2026-03-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z']);
    // February's grant is still valid in March: only January's ends as March starts.
    expect(grant!.rolloverUnits).toBe(200n * BigInt(MB));
  });

  it('never holds more than 2^53-1 units', () => {
    const huge = { ...deviceData, units: Number.MAX_SAFE_INTEGER - 10, rollover_max_units: 1000 };
    const unusedUnitsByGrantId = new Map([[grantId('iot-fleet', 'device-data', 'dev-1', '2026-02-01'), 500n]]);
    const [grant] = allowanceGrantsAt(request({ allowances: [huge], deviceIds: ['dev-1'], unusedUnitsByGrantId }));
    expect([grant!.unitsTotal, grant!.rolloverUnits]).toEqual([BigInt(Number.MAX_SAFE_INTEGER), 10n]);
  });

  it('makes an id too long for the admin API a digest, the same every time', () => {
    const device = 'd'.repeat(128);
    const id = grantId('iot-fleet', 'device-data', device, '2026-03-01');
    expect(id).toMatch(/^grant:[0-9a-f]{64}$/);
    expect(allowanceGrantsAt(request({ allowances: [deviceData], deviceIds: [device] }))[0]!.id).toBe(id);
  });
});

import { describe, expect, it } from 'vitest';
import { billingPeriodAt, nextBillingPeriod, type BillingCycle } from '../../src/billing/billing-cycle.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

function periods(cycle: BillingCycle, fromIso: string, count: number) {
  let period = billingPeriodAt(cycle, at(fromIso));
  const listed = [];
  for (let index = 0; index < count; index++) {
    listed.push(`${period.startDate}..${period.endDate}`);
    period = nextBillingPeriod(cycle, period);
  }
  return listed;
}

describe('billing periods', () => {
  it('are calendar months at local midnight, for a customer at UTC−8 and one at UTC+14', () => {
    const losAngeles = billingPeriodAt({ timeZone: 'America/Los_Angeles', anniversaryDay: null }, at('2026-12-01T07:59:59Z'));
    expect(losAngeles).toMatchObject({ startDate: '2026-11-01', endDate: '2026-12-01' });
    expect([iso(losAngeles.startMs), iso(losAngeles.endMs)]).toEqual(['2026-11-01T07:00:00.000Z', '2026-12-01T08:00:00.000Z']);
    const kiritimati = billingPeriodAt({ timeZone: 'Pacific/Kiritimati', anniversaryDay: null }, at('2026-11-30T10:00:00Z'));
    expect(kiritimati).toMatchObject({ startDate: '2026-12-01', endDate: '2027-01-01' });
    expect(iso(kiritimati.startMs)).toBe('2026-11-30T10:00:00.000Z');
  });

  it('keep whole local days across a DST change: March in Berlin lasts 743 hours', () => {
    const march = billingPeriodAt({ timeZone: 'Europe/Berlin', anniversaryDay: null }, at('2026-03-15T12:00:00Z'));
    expect([iso(march.startMs), iso(march.endMs)]).toEqual(['2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z']);
    expect((march.endMs - march.startMs) / 3_600_000).toBe(743);
  });

  it('bill an anniversary on the 31st on the last day of shorter months, February of a leap year included', () => {
    const cycle = { timeZone: 'UTC', anniversaryDay: 31 };
    expect(periods(cycle, '2028-01-31T00:00:00Z', 5)).toEqual([
      '2028-01-31..2028-02-29', '2028-02-29..2028-03-31', '2028-03-31..2028-04-30', '2028-04-30..2028-05-31', '2028-05-31..2028-06-30',
    ]);
    expect(billingPeriodAt(cycle, at('2027-03-01T00:00:00Z'))).toMatchObject({ startDate: '2027-02-28', endDate: '2027-03-31' });
    expect(billingPeriodAt(cycle, at('2027-02-27T23:59:59Z'))).toMatchObject({ startDate: '2027-01-31', endDate: '2027-02-28' });
  });

  it('start on the anniversary day, the period before it when it has not come yet this month', () => {
    const cycle = { timeZone: 'Europe/Paris', anniversaryDay: 15 };
    expect(billingPeriodAt(cycle, at('2026-11-14T22:59:59Z'))).toMatchObject({ startDate: '2026-10-15', endDate: '2026-11-15' });
    expect(billingPeriodAt(cycle, at('2026-11-14T23:00:00Z'))).toMatchObject({ startDate: '2026-11-15', endDate: '2026-12-15' });
    expect(periods(cycle, '2026-12-20T00:00:00Z', 2)).toEqual(['2026-12-15..2027-01-15', '2027-01-15..2027-02-15']);
  });
});

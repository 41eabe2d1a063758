// A quote is accepted anywhere within its period slack (src/rating/period-slack.ts), so the slack
// must never reach a period position where the same usage would cost anything else. Checked
// over generated tariffs (graduated and volume tiers, bands, intervals, limits) at positions
// inside the slack, at its edges, and just past them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileTariffDocument } from '../../src/rating/compiled-tariff.js';
import { periodSlack } from '../../src/rating/period-slack.js';
import { rateUsage } from '../../src/rating/rate-usage.js';
import { parseTariffDocument } from '../../src/rating/tariff-document.js';
import { ratingCase } from './rating-arbitraries.js';
import { rated, tariffOf } from './rating-support.js';

const RUNS = { numRuns: Number(process.env.RATING_PROPERTY_RUNS ?? 300) };

describe('the period slack of a rating', () => {
  it('holds the same amount everywhere inside it', () => {
    fc.assert(fc.property(ratingCase({ bands: true, limits: true }), fc.double({ min: 0, max: 1, noNaN: true }), ({ document, usage, context }, where) => {
      const tariff = compileTariffDocument(parseTariffDocument(document));
      const rating = rated(rateUsage(tariff, usage, context));
      const slack = periodSlack(tariff, rating, context);
      const low = context.periodUnitsBefore - slack.below;
      const span = slack.above > 10n ** 15n ? 10n ** 15n : slack.above + slack.below;
      const inside = [low, low + BigInt(Math.floor(Number(span) * where)), low + span];
      for (const periodUnitsBefore of inside) {
        expect(low >= 0n).toBe(true);
        const moved = rated(rateUsage(tariff, usage, { ...context, periodUnitsBefore }));
        expect([moved.amountMicros, moved.ratedMicros]).toEqual([rating.amountMicros, rating.ratedMicros]);
      }
    }), RUNS);
  });

  it('is the whole tier far from a boundary, and ends where an increment would cross one', () => {
    const tariff = tariffOf({
      name: 't', currency: 'EUR', time_zone: 'UTC', rounding: { mode: 'up', decimals: 6 }, final_unit_action: 'terminate',
      rates: [{
        rating_group: 1, connect_fee: '0', tier_scope: 'customer',
        intervals: [{ from_units: 0, increment_units: 10, per_units: 1, tiers: { mode: 'graduated', steps: [{ up_to_units: 1000, price: '2' }, { price: '1' }] } }],
      }],
    });
    const usage = { ratingGroup: 1, unit: 'events' as const, units: 100n, startMs: 0 };
    const at = (periodUnitsBefore: bigint) => {
      const context = { sessionUnitsBefore: 0n, sessionRatedMicrosBefore: 0n, periodUnitsBefore };
      return periodSlack(tariff, rated(rateUsage(tariff, usage, context)), context);
    };
    expect(at(200n), 'increments start at 200..290: they may move down to 0 and up to 999 - 290').toEqual({ below: 200n, above: 709n });
    expect(at(950n), 'straddling 1000: each side keeps its increments').toEqual({ below: 0n, above: 9n });
    const unbounded = at(5000n);
    expect(unbounded.below).toBe(4000n);
    expect(unbounded.above > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  });
});

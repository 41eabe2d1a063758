// The pricing vectors of shared/vectors/rating.md, written in the tariff format an operator
// would put in YAML. C3, I2 and I3 are balance flows, tested by the integration suite.
import { describe, expect, it } from 'vitest';
import { formatMicros } from '../../src/money/amount.js';
import { compileTariffDocument } from '../../src/rating/compiled-tariff.js';
import { exactToDecimal } from '../../src/rating/exact-money.js';
import { NEW_SESSION, rateUsage, type RatingGroupUnit } from '../../src/rating/rate-usage.js';
import { parseTariffDocument } from '../../src/rating/tariff-document.js';

const AT_MS = Date.UTC(2025, 5, 2, 12);

// CGRateS interval [connect fee, price, per N units, increment, starts at 0] → one rate.
function cgratesTariff(ratingGroup: number, connectFee: string, price: string, perUnits: number, incrementUnits: number, decimals: number) {
  return compileTariffDocument(parseTariffDocument({
    name: 'vector',
    currency: 'EUR',
    rounding: { mode: 'up', decimals },
    rates: [{ rating_group: ratingGroup, connect_fee: connectFee, intervals: [{ from_units: 0, increment_units: incrementUnits, per_units: perUnits, price }] }],
  }));
}

function rate(tariff: ReturnType<typeof cgratesTariff>, ratingGroup: number, unit: RatingGroupUnit, units: bigint) {
  return rateUsage(tariff, { ratingGroup, unit, units, startMs: AT_MS }, NEW_SESSION);
}

describe('rating vectors in the tariff format (shared/vectors/rating.md)', () => {
  it.each([
    ['C1 per second with a connect fee', cgratesTariff(1, '0.10', '0.01', 1, 1, 4), 'seconds', 45n, '0.550000'],
    ['C2 data per kibibyte', cgratesTariff(1, '0', '1', 1024, 1024, 4), 'bytes', 2048n, '2.000000'],
    ['C2 SMS per event', cgratesTariff(1, '0', '0.10', 1, 1, 4), 'events', 1n, '0.100000'],
    ['C2 flat per session, 45 s', cgratesTariff(1, '0.10', '0', 1, 1, 4), 'seconds', 45n, '0.100000'],
    ['C2 flat per session, 645 s', cgratesTariff(1, '0.10', '0', 1, 1, 4), 'seconds', 645n, '0.100000'],
    ['I1 sub-micro data price', cgratesTariff(1, '0', '0.50', 1_000_000_000, 1024, 6), 'bytes', 1_500_000n, '0.000751'],
  ] as const)('%s', (_name, tariff, unit, units, expected) => {
    const rating = rate(tariff, 1, unit, units);
    expect(rating.ok && formatMicros(rating.amountMicros)).toBe(expected);
  });

  it('C2 SMS with no tariff for the destination: rating failed, nothing charged', () => {
    const tariff = cgratesTariff(1, '0', '0.10', 1, 1, 4);
    expect(rate(tariff, 2, 'events', 1n)).toMatchObject({ ok: false, reason: 'no-rate' });
  });

  it('I1 bills 1465 increments, 1,500,160 bytes, exactly 0.00075008 before rounding', () => {
    const rating = rate(cgratesTariff(1, '0', '0.50', 1_000_000_000, 1024, 6), 1, 'bytes', 1_500_000n);
    if (!rating.ok) throw new Error(rating.message);
    expect(rating.lines).toMatchObject([{ increments: 1465n, units: 1_500_160n }]);
    expect(exactToDecimal(rating.exact).toString()).toBe('0.00075008');
  });
});

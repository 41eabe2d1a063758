// Settling a period of volume tiers: the running maximum charged online against every unit at
// the price of the tier reached. They differ only inside a catch-up stretch.
import { describe, expect, it } from 'vitest';
import { settleVolume, settlesByVolume } from '../../src/rating/volume-settlement.js';
import { tariffOf } from './rating-support.js';

const MB = 1_000_000n;

function tariff(mode: 'volume' | 'graduated', bandPrices = false) {
  return tariffOf({
    name: 't', currency: 'EUR', time_zone: 'UTC', rounding: { mode: 'half-even', decimals: 6 }, final_unit_action: 'terminate',
    bands: [{ name: 'night', weight: 10, from: '22:00', until: '06:00' }],
    rates: [{
      rating_group: 1, connect_fee: '0', tier_scope: 'customer',
      intervals: [{
        from_units: 0, increment_units: 1000, per_units: 1_000_000,
        tiers: { mode, steps: [{ up_to_units: 10_000_000, price: '1.00' }, { price: '0.50', ...(bandPrices ? { band_prices: { night: '0.25' } } : {}) }] },
      }],
    }],
  });
}

const rule = (compiled: ReturnType<typeof tariff>) => compiled.rules.get(1)![0]!;

describe('settling volume tiers', () => {
  const compiled = tariff('volume');
  it.each([
    ['inside the first tier', 8n * MB, '8000000', '8000000', 0],
    ['exactly at the boundary: the lower tier is the one reached', 10n * MB, '10000000', '10000000', 0],
    ['inside the catch-up: charged 10.00, worth 12 MB at 0.50', 12n * MB, '10000000', '6000000', 1],
    ['one unit into the next tier, in whole increments', 10n * MB + 1n, '10000000', '5000500', 1],
    ['past the catch-up: the two agree', 25n * MB, '12500000', '12500000', 1],
  ])('%s', (_name, units, charged, volume, tier) => {
    expect(settleVolume(rule(compiled), compiled.rounding, units)).toEqual({ chargedMicros: BigInt(charged), volumeMicros: BigInt(volume), tier });
  });

  it('applies only to a single interval of volume tiers without band prices', () => {
    expect(settlesByVolume(rule(tariff('volume')))).toBe(true);
    expect(settlesByVolume(rule(tariff('graduated')))).toBe(false);
    expect(settlesByVolume(rule(tariff('volume', true)))).toBe(false);
    expect(settleVolume(rule(compiled), compiled.rounding, 0n)).toBeUndefined();
  });
});

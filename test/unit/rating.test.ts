import { describe, expect, it } from 'vitest';
import { formatMicros } from '../../src/money/amount.js';
import { exactToDecimal } from '../../src/rating/exact-money.js';
import type { Rounding } from '../../src/rating/tariff.js';
import { affordableUnits, exactNumerator, flatRate, rateUnits, type FlatRate } from './flat-rate.js';

// CGRateS interval notation: [connect fee, price, per N units, increment, starts at 0].
function rate(connectFee: string, price: string, perUnits: number, incrementUnits: number, rounding: Rounding): FlatRate {
  return flatRate({ price, perUnits, incrementUnits, connectFee }, rounding);
}

const up4: Rounding = { mode: 'up', decimals: 4 };
const up6: Rounding = { mode: 'up', decimals: 6 };

describe('rating vectors (shared/vectors/rating.md)', () => {
  it.each([
    ['C1 per second with a connect fee', rate('0.10', '0.01', 1, 1, up4), 45n, '0.550000'],
    ['C2 data per kibibyte', rate('0', '1', 1024, 1024, up4), 2048n, '2.000000'],
    ['C2 SMS per event', rate('0', '0.10', 1, 1, up4), 1n, '0.100000'],
    ['C2 flat per session, 45 s', rate('0.10', '0', 1, 1, up4), 45n, '0.100000'],
    ['C2 flat per session, 645 s', rate('0.10', '0', 1, 1, up4), 645n, '0.100000'],
    ['I1 sub-micro data price', rate('0', '0.50', 1_000_000_000, 1024, up6), 1_500_000n, '0.000751'],
  ])('%s', (_name, compiled, units, expected) => {
    expect(formatMicros(rateUnits(compiled, units, true))).toBe(expected);
  });

  it('I1 bills 1465 increments, 1,500,160 bytes, exactly 0.00075008 before rounding', () => {
    const compiled = rate('0', '0.50', 1_000_000_000, 1024, { mode: 'down', decimals: 6 });
    expect(formatMicros(rateUnits(compiled, 1_500_000n, false))).toBe('0.000750');
    const exact = exactToDecimal({ numerator: exactNumerator(compiled, 1_500_000n, false), denominator: compiled.rule.denominator }).toString();
    expect(exact).toBe('0.00075008');
  });
});

describe('rateUnits', () => {
  it('charges nothing, not even the connect fee, for zero units', () => {
    expect(rateUnits(rate('0.10', '0.01', 1, 1, up4), 0n, true)).toBe(0n);
  });

  it('rates 2^53-1 units in closed form', () => {
    const compiled = rate('0', '0.50', 1_000_000_000, 1024, up6);
    expect(formatMicros(rateUnits(compiled, BigInt(Number.MAX_SAFE_INTEGER), false))).toBe('4503599.627371');
  });

  it.each([
    ['up', '0.000001'],
    ['down', '0.000000'],
    ['half-even', '0.000000'],
  ] as const)('rounds %s once per charge', (mode, expected) => {
    const compiled = rate('0', '0.0000004', 1, 1, { mode, decimals: 6 });
    expect(formatMicros(rateUnits(compiled, 1n, false))).toBe(expected);
  });

  it('rounds half-even ties to the even step', () => {
    const compiled = rate('0', '0.0000005', 1, 1, { mode: 'half-even', decimals: 6 });
    expect(rateUnits(compiled, 1n, false)).toBe(0n);
    expect(rateUnits(compiled, 3n, false)).toBe(2n);
  });
});

describe('affordableUnits', () => {
  const modes = ['up', 'down', 'half-even'] as const;

  it.each(modes)('finds the largest affordable grant under %s rounding', (mode) => {
    const compiled = rate('0.05', '0.0000003', 1, 7, { mode, decimals: 6 });
    for (const budget of [0n, 1n, 49_999n, 50_000n, 50_001n, 50_002n, 123_457n, 1_000_000n]) {
      const found = affordableUnits(compiled, 10_000_000n, budget, true);
      expect(found.micros).toBeLessThanOrEqual(budget);
      expect(found.micros).toBe(rateUnits(compiled, found.units, true));
      if (found.units < 10_000_000n) {
        // One more increment would not be affordable.
        expect(rateUnits(compiled, found.units + 7n, true)).toBeGreaterThan(budget);
      }
    }
  });

  it('grants the whole request when the budget covers it', () => {
    const compiled = rate('0', '1', 1_000_000, 1000, up6);
    expect(affordableUnits(compiled, 2_000_000n, 5_000_000n, false)).toEqual({ units: 2_000_000n, micros: 2_000_000n });
  });

  it('grants nothing when one increment costs more than the budget', () => {
    const compiled = rate('0', '0.01', 1, 1, up6);
    expect(affordableUnits(compiled, 100n, 9_999n, false)).toEqual({ units: 0n, micros: 0n });
  });

  it('treats a free rate as always affordable', () => {
    const compiled = rate('0', '0', 1, 1, up6);
    expect(affordableUnits(compiled, 100n, 0n, false)).toEqual({ units: 100n, micros: 0n });
  });
});

// Properties of rating over generated tariffs and usages (fast-check).
//
// "The same" under one rounding per charge: rating a usage in parts gives exactly the same
// unrounded total as rating it whole, so the rounded totals differ only by the rounding of each
// part: rounding up, the parts come to the whole or one step more; down, the whole or one step
// less; half-even, within one step either way. The session's minimum and maximum keep that
// bound: they apply to the running total, which telescopes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bandChanges } from '../../src/rating/band-runs.js';
import { compileTariffDocument, type CompiledTariffDocument } from '../../src/rating/compiled-tariff.js';
import { Decimal } from '../../src/rating/decimal.js';
import { exactToDecimal } from '../../src/rating/exact-money.js';
import { affordableUsage, NEW_SESSION, rateUsage, type RatingContext, type Usage } from '../../src/rating/rate-usage.js';
import { contextAfter, splitUsage } from '../../src/rating/split-usage.js';
import type { RoundingMode } from '../../src/rating/tariff.js';
import { parseTariffDocument, type TariffDocument } from '../../src/rating/tariff-document.js';
import { decimalString, ratingCase, startMs, tariffDocument, usage as usageOf, type Case } from './rating-arbitraries.js';
import { oracleAmountMicros, oracleExact } from './rating-oracle.js';
import { affordableUnits, flatRate, rateUnits } from './flat-rate.js';
import { rated } from './rating-support.js';

const compile = (document: TariffDocument): CompiledTariffDocument => compileTariffDocument(parseTariffDocument(document));
const stepMicros = (document: TariffDocument): bigint => 10n ** BigInt(6 - document.rounding.decimals);
// RATING_PROPERTY_RUNS=5000 npx vitest run test/unit/rating-properties.test.ts searches harder.
const RUNS = { numRuns: Number(process.env.RATING_PROPERTY_RUNS ?? 300) };

/** Whether `parts` is within one rounding step of `whole`, on the side the mode rounds to. */
function withinOneStep(mode: RoundingMode, parts: bigint, whole: bigint, step: bigint): boolean {
  const over = parts - whole;
  if (mode === 'up') return over >= 0n && over <= step;
  if (mode === 'down') return over <= 0n && over >= -step;
  return over >= -step && over <= step;
}

interface Parts {
  exactNumerator: bigint;
  amountMicros: bigint;
}

/** Rates the parts in turn, each in the context the one before left. */
function rateInTurn(tariff: CompiledTariffDocument, parts: Usage[], context: RatingContext): Parts {
  const sum: Parts = { exactNumerator: 0n, amountMicros: 0n };
  for (const part of parts) {
    const rating = rated(rateUsage(tariff, part, context));
    sum.exactNumerator += rating.exact.numerator;
    sum.amountMicros += rating.amountMicros;
    context = contextAfter(context, part.units, rating);
  }
  return sum;
}

function expectSplitAddsUp({ document, usage, context }: Case, splitAtMs: number): void {
  const tariff = compile(document);
  const whole = rated(rateUsage(tariff, usage, context));
  const parts = rateInTurn(tariff, splitUsage(usage, splitAtMs), context);
  expect(parts.exactNumerator).toBe(whole.exact.numerator);
  expect(withinOneStep(document.rounding.mode, parts.amountMicros, whole.amountMicros, stepMicros(document))).toBe(true);
}

describe('rating properties', () => {
  it('agrees with a per-increment decimal model: bands, DST, tiers, intervals, fees, limits and rounding', () => {
    fc.assert(fc.property(ratingCase(), ({ document, usage, context }) => {
      const rating = rated(rateUsage(compile(document), usage, context));
      const parsed = parseTariffDocument(document);
      expect(exactToDecimal(rating.exact).toString()).toBe(oracleExact(parsed, parsed.rates[0]!, usage, context).toString());
      expect(rating.amountMicros).toBe(oracleAmountMicros(parsed, parsed.rates[0]!, usage, context));
    }), RUNS);
  });

  it('never costs less than nothing, up to 2^53-1 units', () => {
    const huge = usageOf(Number.MAX_SAFE_INTEGER, fc.constantFrom('bytes', 'events')).map((usage) => ({ ...usage, endMs: undefined }));
    fc.assert(fc.property(ratingCase(), huge, ({ document, context }, usage) => {
      const rating = rated(rateUsage(compile(document), usage, context));
      expect(rating.amountMicros >= 0n && rating.ratedMicros >= 0n).toBe(true);
    }), RUNS);
  });

  it('costs no less for more units at the same time (an instant, or seconds from one start)', () => {
    const instant = ratingCase({ units: fc.constantFrom('seconds', 'events') }).map((each) => ({ ...each, usage: { ...each.usage, endMs: undefined } }));
    fc.assert(fc.property(instant, fc.integer({ min: 0, max: 150 }), ({ document, usage, context }, more) => {
      const tariff = compile(document);
      const fewer = rated(rateUsage(tariff, usage, context));
      const larger = rated(rateUsage(tariff, { ...usage, units: usage.units + BigInt(more) }, context));
      expect(larger.amountMicros >= fewer.amountMicros).toBe(true);
    }), RUNS);
  });

  it('is additive for a pure per-unit price, up to one rounding step', () => {
    const perUnit = fc.record({ price: decimalString(100_000, 9), mode: fc.constantFrom('up' as const, 'down' as const, 'half-even' as const), decimals: fc.integer({ min: 0, max: 6 }) });
    const units = fc.bigInt({ min: 0n, max: 10n ** 12n });
    fc.assert(fc.property(perUnit, units, units, startMs(), ({ price, mode, decimals }, first, second, atMs) => {
      const document = parseTariffDocument({ name: 'per unit', currency: 'EUR', rounding: { mode, decimals }, rates: [{ rating_group: 1, intervals: [{ increment_units: 1, per_units: 1000, price }] }] });
      const tariff = compile(document);
      const alone = (units: bigint) => rated(rateUsage(tariff, { ratingGroup: 1, unit: 'bytes', units, startMs: atMs }, NEW_SESSION));
      const [a, b, both] = [alone(first), alone(second), alone(first + second)];
      expect(a.exact.numerator + b.exact.numerator).toBe(both.exact.numerator);
      expect(withinOneStep(mode, a.amountMicros + b.amountMicros, both.amountMicros, stepMicros(document))).toBe(true);
    }), RUNS);
  });

  it('adds up when a session is split at any instant: seconds fall on unit boundaries', () => {
    const secondsCase = ratingCase({ units: fc.constant('seconds') });
    fc.assert(fc.property(secondsCase, fc.double({ min: 0, max: 1, noNaN: true }), (each, fraction) => {
      expectSplitAddsUp(each, each.usage.startMs + Math.round(fraction * Number(each.usage.units) * 1000));
    }), RUNS);
  });

  it('adds up when bytes spread over a report are split at the one band change in it', () => {
    const shortReports = ratingCase({ units: fc.constant('bytes') }).chain((each) =>
      fc.integer({ min: 1, max: 3 * 3_600_000 }).map((spanMs) => ({ ...each, usage: { ...each.usage, endMs: each.usage.startMs + spanMs } })));
    fc.assert(fc.property(shortReports, (each) => {
      const tariff = compile(each.document);
      const changes = bandChanges(tariff.bands, each.usage.startMs, each.usage.endMs!);
      fc.pre(changes.startsMs.length === 2);
      expectSplitAddsUp(each, changes.startsMs[1]!);
    }), { numRuns: 200 });
  });

  it('adds up when a report is split at a version boundary under the same tariff, at any instant', () => {
    const withoutBands = tariffDocument({ bands: false }).chain((document) => fc.record({
      document: fc.constant(document),
      usage: usageOf(400, fc.constantFrom('bytes', 'events')),
      context: fc.constant(NEW_SESSION),
      atMs: fc.integer({ min: 0, max: 36 * 3_600_000 }),
    }));
    fc.assert(fc.property(withoutBands, ({ atMs, ...each }) => expectSplitAddsUp(each, each.usage.startMs + atMs)), RUNS);
  });

  // A budget of zero or less buys only what costs nothing in all, so "one more unit" is checked above zero.
  it('finds the most units a budget buys: affordable, and one unit more is not', () => {
    const instant = ratingCase({ units: fc.constantFrom('seconds', 'events') }).map((each) => ({ ...each, usage: { ...each.usage, endMs: undefined } }));
    fc.assert(fc.property(instant, fc.bigInt({ min: -10n, max: 2_000_000_000n }), ({ document, usage, context }, budgetMicros) => {
      const tariff = compile(document);
      const found = affordableUsage(tariff, usage, context, budgetMicros);
      if (!found.ok) throw new Error(found.message);
      expect(found.units <= usage.units).toBe(true);
      expect(found.rating.amountMicros).toBe(rated(rateUsage(tariff, { ...usage, units: found.units }, context)).amountMicros);
      if (found.units === usage.units) return;
      if (found.units > 0n) expect(found.rating.amountMicros <= budgetMicros).toBe(true);
      if (budgetMicros > 0n) expect(rated(rateUsage(tariff, { ...usage, units: found.units + 1n }, context)).amountMicros > budgetMicros).toBe(true);
    }), RUNS);
  });
});

describe('a flat per-unit rate on the engine', () => {
  const definition = fc.record({
    price: decimalString(1_000_000, 12),
    perUnits: fc.constantFrom(1, 8, 1000, 1024, 1_000_000_000),
    incrementUnits: fc.integer({ min: 1, max: 100_000 }),
    connectFee: fc.oneof(fc.constant('0'), decimalString(1000, 3)),
    mode: fc.constantFrom('up' as const, 'down' as const, 'half-even' as const),
    decimals: fc.integer({ min: 0, max: 6 }),
  });
  function compileRate(each: { price: string; perUnits: number; incrementUnits: number; connectFee: string; mode: RoundingMode; decimals: number }) {
    return flatRate({ price: each.price, perUnits: each.perUnits, incrementUnits: each.incrementUnits, connectFee: each.connectFee }, { mode: each.mode, decimals: each.decimals });
  }

  const MODES = { up: Decimal.ROUND_CEIL, down: Decimal.ROUND_FLOOR, 'half-even': Decimal.ROUND_HALF_EVEN } as const;

  it('rateUnits is the documented formula: fee + ceil(units / increment) × price × increment / per_units, rounded once', () => {
    fc.assert(fc.property(definition, fc.bigInt({ min: 1n, max: BigInt(Number.MAX_SAFE_INTEGER) }), fc.boolean(), (each, units, withFee) => {
      const increments = (units + BigInt(each.incrementUnits) - 1n) / BigInt(each.incrementUnits);
      const exact = new Decimal(each.price).times(each.incrementUnits).dividedBy(each.perUnits).times(increments.toString()).plus(withFee ? each.connectFee : 0);
      const expected = BigInt(exact.toDecimalPlaces(each.decimals, MODES[each.mode]).times(1_000_000).toFixed(0));
      expect(rateUnits(compileRate(each), units, withFee)).toBe(expected);
    }), RUNS);
  });

  it('affordableUnits grants whole increments within the budget, and one more increment would not fit', () => {
    fc.assert(fc.property(definition, fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.bigInt({ min: -5n, max: 10n ** 10n }), fc.boolean(), (each, requested, budget, withFee) => {
      const rate = compileRate(each);
      const found = affordableUnits(rate, requested, budget, withFee);
      expect(found.micros).toBe(rateUnits(rate, found.units, withFee));
      if (found.units === requested) return;
      expect(found.units % BigInt(each.incrementUnits) === 0n && (found.units === 0n || found.micros <= budget)).toBe(true);
      if (budget > 0n) expect(rateUnits(rate, found.units + BigInt(each.incrementUnits), withFee) > budget).toBe(true);
    }), RUNS);
  });
});

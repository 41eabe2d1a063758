// A flat per-unit rate (one interval: no bands, tiers or limits), rated by the engine at the
// start of a session with the connect fee as the caller says. It is the formula of vectors C1,
// C2 and I1, fee + ceil(units ÷ increment) × price × increment ÷ per_units, rounded once, and
// its inverse, which the unit tests check closely.
import { affordRule, chargeRule, NEW_SESSION } from '../../src/rating/charge-rule.js';
import { compileRateRule, NO_NAMES, type CompiledRateRule } from '../../src/rating/compiled-tariff.js';
import { NO_BANDS } from '../../src/rating/price-walk.js';
import { rateDocumentOf, type RateDefinition, type Rounding } from '../../src/rating/tariff.js';

export interface FlatRate {
  rule: CompiledRateRule;
  rounding: Rounding;
}

export function flatRate(rate: Omit<RateDefinition, 'ratingGroup'>, rounding: Rounding): FlatRate {
  return { rule: compileRateRule(rateDocumentOf({ ratingGroup: 1, ...rate }), 0, NO_NAMES), rounding };
}

/** The money for `units`, in micros. Zero units cost nothing, connect fee included. */
export function rateUnits(rate: FlatRate, units: bigint, withConnectFee: boolean): bigint {
  if (units <= 0n) return 0n;
  return chargeRule(rate.rule, rate.rounding, NO_BANDS, NEW_SESSION, units, withConnectFee).amountMicros;
}

/** Its exact value before rounding, as numerator over the rule's denominator. */
export function exactNumerator(rate: FlatRate, units: bigint, withConnectFee: boolean): bigint {
  return chargeRule(rate.rule, rate.rounding, NO_BANDS, NEW_SESSION, units, withConnectFee).numerator;
}

/** The most of `requestedUnits` that `budgetMicros` pays for, in whole increments (or all of them). */
export function affordableUnits(rate: FlatRate, requestedUnits: bigint, budgetMicros: bigint, withConnectFee: boolean): { units: bigint; micros: bigint } {
  if (requestedUnits <= 0n) return { units: 0n, micros: 0n };
  const found = affordRule(rate.rule, rate.rounding, NO_BANDS, NEW_SESSION, requestedUnits, budgetMicros, withConnectFee);
  return { units: found.units, micros: found.charge.amountMicros };
}

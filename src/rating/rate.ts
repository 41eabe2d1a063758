// The per-unit API the charging service uses today: a compiled rate and a unit count →
// integer micro-units, and its inverse. Both are the engine (charge-rule.ts) on a rate with one
// interval and no bands, at the start of a session, with the connect fee as the caller says.
//
// Policy: a charge is computed exactly, in closed form,
//   connect fee (when it applies) + ceil(units ÷ increment) × price per increment,
// and rounded once, with the tariff's rule, to its decimals. Nothing is rounded per increment,
// so a million small charges cost what their exact sum rounds to, each within one step.
import { affordRule, chargeRule, NEW_SESSION } from './charge-rule.js';
import { NO_BANDS } from './price-walk.js';
import type { CompiledRate } from './tariff.js';

export function increments(rate: CompiledRate, units: bigint): bigint {
  return (units + rate.incrementUnits - 1n) / rate.incrementUnits;
}

/** The money for `units`, in micros. Zero units cost nothing, connect fee included. */
export function rateUnits(rate: CompiledRate, units: bigint, withConnectFee: boolean): bigint {
  if (units <= 0n) return 0n;
  return chargeRule(rate.rule, rate.rounding, NO_BANDS, NEW_SESSION, units, withConnectFee).amountMicros;
}

export interface Affordable {
  units: bigint;
  micros: bigint;
}

/**
 * The most of `requestedUnits` that `budgetMicros` pays for, in whole increments (or all of
 * them). Closed form: the budget is turned into a bound on the exact cost by inverting the
 * rounding rule, so even prices far below one micro per increment need no search.
 */
export function affordableUnits(rate: CompiledRate, requestedUnits: bigint, budgetMicros: bigint, withConnectFee: boolean): Affordable {
  if (requestedUnits <= 0n) return { units: 0n, micros: 0n };
  const found = affordRule(rate.rule, rate.rounding, NO_BANDS, NEW_SESSION, requestedUnits, budgetMicros, withConnectFee);
  return { units: found.units, micros: found.charge.amountMicros };
}

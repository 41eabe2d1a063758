// Pure pricing: a compiled rate and a unit count → integer micro-units. No I/O.
//
// Policy: a charge is computed exactly, in closed form,
//   connect fee (when it applies) + ceil(units ÷ increment) × price per increment,
// and rounded once, with the tariff's rule, to its decimals. Nothing is rounded per increment,
// so a million small charges cost what their exact sum rounds to, each within one step.
import { Decimal, type DecimalRounding } from './decimal.js';
import type { CompiledRate, RoundingMode } from './tariff.js';

const ROUNDING_CONSTANTS: Record<RoundingMode, DecimalRounding> = {
  up: Decimal.ROUND_CEIL,
  down: Decimal.ROUND_FLOOR,
  'half-even': Decimal.ROUND_HALF_EVEN,
};
const MICROS = new Decimal(1_000_000);

export function increments(rate: CompiledRate, units: bigint): bigint {
  return (units + rate.incrementUnits - 1n) / rate.incrementUnits;
}

/** The money for `units`, in micros. Zero units cost nothing, connect fee included. */
export function rateUnits(rate: CompiledRate, units: bigint, withConnectFee: boolean): bigint {
  if (units <= 0n) return 0n;
  return roundToMicros(rate, exactCost(rate, increments(rate, units), withConnectFee));
}

function exactCost(rate: CompiledRate, incrementCount: bigint, withConnectFee: boolean): Decimal {
  const usage = rate.pricePerIncrement.times(incrementCount.toString());
  return withConnectFee ? usage.plus(rate.connectFee) : usage;
}

function roundToMicros(rate: CompiledRate, exact: Decimal): bigint {
  const rounded = exact.toDecimalPlaces(rate.rounding.decimals, ROUNDING_CONSTANTS[rate.rounding.mode]);
  return BigInt(rounded.times(MICROS).toFixed(0));
}

export interface Affordable {
  units: bigint;
  micros: bigint;
}

/**
 * The most of `requestedUnits` that `budgetMicros` pays for, in whole increments (or all of
 * them). Closed form: the threshold the exact cost must stay under is derived from the
 * rounding rule, so even prices far below one micro per increment need no search.
 */
export function affordableUnits(rate: CompiledRate, requestedUnits: bigint, budgetMicros: bigint, withConnectFee: boolean): Affordable {
  const full = rateUnits(rate, requestedUnits, withConnectFee);
  if (full <= budgetMicros) return { units: requestedUnits, micros: full };
  if (budgetMicros <= 0n) return { units: 0n, micros: 0n };
  let count = maxIncrementsUnder(rate, budgetMicros, withConnectFee);
  const wanted = increments(rate, requestedUnits);
  if (count >= wanted) count = wanted - 1n;
  // The closed form is exact; this bounded walk only guards the assertion below.
  for (let step = 0; step < 3 && count > 0n && roundToMicros(rate, exactCost(rate, count, withConnectFee)) > budgetMicros; step++) count--;
  if (count <= 0n) return { units: 0n, micros: 0n };
  const micros = roundToMicros(rate, exactCost(rate, count, withConnectFee));
  if (micros > budgetMicros) throw new Error(`affordableUnits: ${micros} exceeds budget ${budgetMicros}`);
  return { units: count * rate.incrementUnits, micros };
}

function maxIncrementsUnder(rate: CompiledRate, budgetMicros: bigint, withConnectFee: boolean): bigint {
  const step = new Decimal(10).pow(-rate.rounding.decimals);
  const budget = new Decimal(budgetMicros.toString()).dividedBy(MICROS).toDecimalPlaces(rate.rounding.decimals, Decimal.ROUND_FLOOR);
  const fee = withConnectFee ? rate.connectFee : new Decimal(0);
  if (rate.pricePerIncrement.isZero()) return roundToMicros(rate, fee) <= budgetMicros ? BigInt(Number.MAX_SAFE_INTEGER) : 0n;
  // The exact cost x may reach `limit` (inclusive for "up", exclusive otherwise).
  const limit = rate.rounding.mode === 'up' ? budget : budget.plus(rate.rounding.mode === 'down' ? step : step.dividedBy(2));
  const quotient = limit.minus(fee).dividedBy(rate.pricePerIncrement);
  if (quotient.isNegative()) return 0n;
  const whole = quotient.floor();
  const count = rate.rounding.mode !== 'up' && whole.equals(quotient) ? whole.minus(1) : whole;
  // A half-even tie at the limit may still round down to the budget.
  const next = BigInt(count.toFixed(0)) + 1n;
  if (rate.rounding.mode === 'half-even' && roundToMicros(rate, exactCost(rate, next, withConnectFee)) <= budgetMicros) return next;
  return BigInt(count.toFixed(0));
}

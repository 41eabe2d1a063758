// Exact money as a fraction of bigints, and the one rounding a charge gets.
//
// A compiled rate keeps every price as an integer numerator over one denominator of its own
// (10^decimals × the lcm of its per_units), so rating adds and multiplies integers only and the
// sum is exact whatever the price: 0.50 per 10^9 bytes, or 1 per 3 events. Rounding then happens
// once per charge, to the tariff's decimals. Rounding per increment or per line would drift: a
// million lines of 0.4 micro each, rounded each, come to 0 or to 1.000000, where their exact sum
// is 0.400000. Rounded once, a charge is within one step of its exact value, and a session of
// many charges within one step per charge.
import { Decimal } from './decimal.js';
import type { Rounding, RoundingMode } from './tariff-terms.js';

/** numerator ÷ denominator currency units; the denominator is positive. */
export interface ExactAmount {
  numerator: bigint;
  denominator: bigint;
}

const MICRO_DECIMALS = 6;
const POWERS_OF_TEN = Array.from({ length: 40 }, (_, exponent) => 10n ** BigInt(exponent));

export function powerOfTen(exponent: number): bigint {
  return POWERS_OF_TEN[exponent] ?? 10n ** BigInt(exponent);
}

export function floorDivide(dividend: bigint, divisor: bigint): bigint {
  const quotient = dividend / divisor;
  return quotient * divisor > dividend ? quotient - 1n : quotient;
}

export function ceilDivide(dividend: bigint, divisor: bigint): bigint {
  const quotient = dividend / divisor;
  return quotient * divisor < dividend ? quotient + 1n : quotient;
}

function divideRounding(dividend: bigint, divisor: bigint, mode: RoundingMode): bigint {
  if (mode === 'up') return ceilDivide(dividend, divisor);
  const floor = floorDivide(dividend, divisor);
  if (mode === 'down') return floor;
  const twiceRemainder = 2n * (dividend - floor * divisor);
  if (twiceRemainder !== divisor) return twiceRemainder < divisor ? floor : floor + 1n;
  return floor % 2n === 0n ? floor : floor + 1n;
}

/** The one rounding of a charge: to the tariff's decimals, as micro-units. */
export function roundToMicros(numerator: bigint, denominator: bigint, rounding: Rounding): bigint {
  const steps = divideRounding(numerator * powerOfTen(rounding.decimals), denominator, rounding.mode);
  return steps * powerOfTen(MICRO_DECIMALS - rounding.decimals);
}

/**
 * The largest numerator that rounds to at most `micros`: the inverse of roundToMicros, so a
 * budget becomes a bound on exact cost without any search.
 */
export function largestNumeratorWithin(micros: bigint, denominator: bigint, rounding: Rounding): bigint {
  const steps = floorDivide(micros, powerOfTen(MICRO_DECIMALS - rounding.decimals));
  const scale = powerOfTen(rounding.decimals);
  let largest: bigint;
  if (rounding.mode === 'up') largest = floorDivide(steps * denominator, scale);
  else if (rounding.mode === 'down') largest = floorDivide((steps + 1n) * denominator - 1n, scale);
  else {
    // Below the midpoint rounds down to `steps`; the midpoint itself only when `steps` is even.
    const twiceMidpoint = (2n * steps + 1n) * denominator;
    const tieAllowed = steps % 2n === 0n && twiceMidpoint % (2n * scale) === 0n;
    largest = tieAllowed ? twiceMidpoint / (2n * scale) : floorDivide(twiceMidpoint - 1n, 2n * scale);
  }
  if (roundToMicros(largest, denominator, rounding) > micros || roundToMicros(largest + 1n, denominator, rounding) <= micros) {
    throw new Error(`largestNumeratorWithin: ${largest} is not the bound for ${micros} micros over ${denominator}`);
  }
  return largest;
}

/** For display: exact to the 60 significant digits of the Decimal clone. */
export function exactToDecimal(amount: ExactAmount): Decimal {
  return new Decimal(amount.numerator.toString()).dividedBy(amount.denominator.toString());
}

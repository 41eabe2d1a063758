// One charge under one compiled rate: the exact cost of the increments it pays for, rounded
// once, then held within the session's minimum and maximum; and its inverse, the most units a
// budget buys.
//
// Minimum and maximum are per session, while a session is charged in parts (reserve, update,
// terminate). So they apply to the session's running total: a session's charges always add up
// to clamp(sum of its rounded charges, minimum, maximum). The first charge with usage is raised
// to the minimum, later ones are charged only past it, and nothing is charged past the maximum.
// The context carries that running sum (`sessionRatedMicrosBefore`) for this reason.
import { exactToDecimal, largestNumeratorWithin, roundToMicros } from './exact-money.js';
import type { CompiledRateRule } from './compiled-tariff.js';
import { furthestWithin, stretchNumerator, walk, type BandPositions, type Walk } from './price-walk.js';
import type { Rounding } from './tariff-terms.js';

/** Where this usage falls: in its session (intervals, connect fee, limits) and its billing period (tiers). */
export interface RatingContext {
  /** Units of this rating group charged earlier in this session; 0 for a new session or an event. */
  sessionUnitsBefore: bigint;
  /** Sum of `ratedMicros` of this session's earlier charges: before its minimum and maximum. */
  sessionRatedMicrosBefore: bigint;
  /** Units used earlier in the billing period, by the customer's pool or the device (the rate's tier_scope). */
  periodUnitsBefore: bigint;
}

export const NEW_SESSION: RatingContext = Object.freeze({ sessionUnitsBefore: 0n, sessionRatedMicrosBefore: 0n, periodUnitsBefore: 0n });

export type SessionLimit = 'minimum' | 'maximum' | null;

export interface Charge {
  walk: Walk;
  /** Connect fee (when due) plus every stretch, over the rate's denominator. */
  numerator: bigint;
  feeNumerator: bigint;
  /** The numerator rounded once, in micros, before the session's minimum and maximum. */
  ratedMicros: bigint;
  /** What this charge costs the session: ratedMicros, held within the minimum and maximum. */
  amountMicros: bigint;
  limit: SessionLimit;
}

function clampMicros(rule: CompiledRateRule, micros: bigint): bigint {
  if (rule.minimumMicros !== null && micros < rule.minimumMicros) return rule.minimumMicros;
  if (rule.maximumMicros !== null && micros > rule.maximumMicros) return rule.maximumMicros;
  return micros;
}

const hasLimits = (rule: CompiledRateRule): boolean => rule.minimumMicros !== null || rule.maximumMicros !== null;

/** What the session was charged before: nothing before its first usage, then its clamped total. */
function chargedBeforeMicros(rule: CompiledRateRule, context: RatingContext): bigint {
  return context.sessionUnitsBefore === 0n ? 0n : clampMicros(rule, context.sessionRatedMicrosBefore);
}

/** A charge for `units` after `context`; the connect fee when `feeDue`. Zero units cost nothing. */
export function chargeRule(rule: CompiledRateRule, rounding: Rounding, bands: BandPositions, context: RatingContext, units: bigint, feeDue: boolean): Charge {
  const paid = walk(rule, bands, context.sessionUnitsBefore, context.periodUnitsBefore, units);
  const feeNumerator = feeDue && units > 0n ? rule.connectFeeNumerator : 0n;
  let numerator = feeNumerator;
  for (const stretch of paid.stretches) numerator += stretchNumerator(stretch);
  const ratedMicros = roundToMicros(numerator, rule.denominator, rounding);
  if (units === 0n || !hasLimits(rule)) return { walk: paid, numerator, feeNumerator, ratedMicros, amountMicros: ratedMicros, limit: null };
  const totalMicros = context.sessionRatedMicrosBefore + ratedMicros;
  const clampedMicros = clampMicros(rule, totalMicros);
  const limit: SessionLimit = clampedMicros > totalMicros ? 'minimum' : clampedMicros < totalMicros ? 'maximum' : null;
  return { walk: paid, numerator, feeNumerator, ratedMicros, amountMicros: clampedMicros - chargedBeforeMicros(rule, context), limit };
}

/** The most `ratedMicros` may be for the charge to fit `budgetMicros`; null when nothing fits. */
function ratedMicrosLimit(rule: CompiledRateRule, context: RatingContext, budgetMicros: bigint): bigint | null {
  if (!hasLimits(rule)) return budgetMicros;
  const totalMax = budgetMicros + chargedBeforeMicros(rule, context);
  if (rule.minimumMicros !== null && rule.minimumMicros > totalMax) return null;
  return totalMax - context.sessionRatedMicrosBefore;
}

export interface Affordable {
  units: bigint;
  charge: Charge;
}

/**
 * The most of `units` that `budgetMicros` pays for: all of them, or the units up to the end of
 * the last whole increment it covers. The budget becomes a bound on the exact numerator (the
 * rounding inverted), and the walk's stretches are cut in closed form. A budget of zero or less
 * buys only a request that costs nothing.
 */
export function affordRule(rule: CompiledRateRule, rounding: Rounding, bands: BandPositions, context: RatingContext, units: bigint, budgetMicros: bigint, feeDue: boolean): Affordable {
  const full = chargeRule(rule, rounding, bands, context, units, feeDue);
  if (full.amountMicros <= budgetMicros) return { units, charge: full };
  const none = (): Affordable => ({ units: 0n, charge: chargeRule(rule, rounding, bands, context, 0n, feeDue) });
  const limitMicros = budgetMicros > 0n ? ratedMicrosLimit(rule, context, budgetMicros) : null;
  if (limitMicros === null) return none();
  const limitNumerator = largestNumeratorWithin(limitMicros, rule.denominator, rounding);
  const feeNumerator = feeDue ? rule.connectFeeNumerator : 0n;
  if (feeNumerator > limitNumerator) return none();
  const granted = furthestWithin(full.walk.stretches, full.walk.fromUnits, feeNumerator, limitNumerator) - context.sessionUnitsBefore;
  if (granted >= units) throw new Error(`affordRule: ${granted} units fit but all ${units} did not`);
  if (granted === 0n) return none();
  const charge = chargeRule(rule, rounding, bands, context, granted, feeDue);
  if (charge.amountMicros > budgetMicros) {
    throw new Error(`affordRule: ${granted} units cost ${charge.amountMicros} micros (${exactToDecimal({ numerator: charge.numerator, denominator: rule.denominator })} exact), over ${budgetMicros}`);
  }
  return { units: granted, charge };
}

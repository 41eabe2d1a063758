// A period's volume tiers settled at its close. Online, a charge cannot be taken back, so a rate
// with volume tiers charges the period's running maximum (compiled-tariff.ts compileVolume): past
// a boundary, usage is free until the cheaper price catches up with what was charged. Offline,
// the tier the period reached prices every unit. The two differ only when the period ends inside
// a catch-up stretch, where the period was charged more than its volume price; the invoice then
// credits the difference.
//
// Settled in closed form over the period's units as one stretch from position 0: the charges of
// the catch-up schedule against every increment at the reached tier's own price, each rounded
// once with the tariff's rule. It prices increments alike, so it holds for a rate of one interval
// whose volume tiers have no band prices; for another rate it answers undefined.
import { chargeRule, NEW_SESSION } from './charge-rule.js';
import type { CompiledRateRule } from './compiled-tariff.js';
import { ceilDivide, roundToMicros } from './exact-money.js';
import { NO_BANDS } from './price-walk.js';
import type { Rounding } from './tariff-terms.js';

export interface VolumeSettlement {
  /** What the running maximum charges for the units, rounded once. */
  chargedMicros: bigint;
  /** Every unit at the price of the tier reached, rounded once. */
  volumeMicros: bigint;
  /** Index of the tier reached. */
  tier: number;
}

/** True for a rate whose period is settled at its volume price (see above). */
export function settlesByVolume(rule: CompiledRateRule): boolean {
  if (rule.intervals.length !== 1 || !rule.intervals[0]!.volume) return false;
  const [base, ...bands] = rule.intervals[0]!.schedules;
  return bands.every((schedule) => schedule === base);
}

export function settleVolume(rule: CompiledRateRule, rounding: Rounding, units: bigint): VolumeSettlement | undefined {
  if (!settlesByVolume(rule) || units <= 0n) return undefined;
  const interval = rule.intervals[0]!;
  const schedule = interval.schedules[0]!;
  let reached = 0;
  while (reached + 1 < schedule.length && schedule[reached + 1]!.fromUnits <= units - 1n) reached++;
  const step = schedule[reached]!;
  const charged = chargeRule(rule, rounding, NO_BANDS, NEW_SESSION, units, false);
  const volumeNumerator = ceilDivide(units, interval.incrementUnits) * step.listNumerator;
  return { chargedMicros: charged.ratedMicros, volumeMicros: roundToMicros(volumeNumerator, rule.denominator, rounding), tier: step.tier ?? 0 };
}

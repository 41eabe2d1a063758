// How far the period's usage may move, up or down, before a rating changes. Charging prices a
// request before the atomic script runs, and by then other sessions of the same pool may have
// moved the period's counter. A price is still exact when every increment it paid for would
// still fall in the same tier step, so the script accepts it anywhere within this slack and
// asks again only outside it. Far from a tier boundary the slack is the whole tier, so a busy
// pool does not retry; a rate without tiers has unbounded slack.
import { UNITS_BEYOND, type CompiledRateRule, type CompiledStep, type CompiledTariffDocument } from './compiled-tariff.js';
import type { RatingContext } from './charge-rule.js';
import type { Rating } from './rate-usage.js';

/** Units the period position may move down and up with the rating unchanged. */
export interface PeriodSlack {
  below: bigint;
  above: bigint;
}

export const UNBOUNDED_SLACK: PeriodSlack = Object.freeze({ below: UNITS_BEYOND, above: UNITS_BEYOND });

function ruleOf(tariff: CompiledTariffDocument, rating: Rating): CompiledRateRule {
  for (const rules of tariff.rules.values()) {
    const rule = rules.find((candidate) => candidate.index === rating.rate);
    if (rule !== undefined) return rule;
  }
  throw new Error(`periodSlack: the tariff has no rate ${rating.rate}`);
}

function stepIndexAt(schedule: readonly CompiledStep[], periodUnits: bigint): number {
  let index = 0;
  while (index + 1 < schedule.length && schedule[index + 1]!.fromUnits <= periodUnits) index++;
  return index;
}

/** The slack of one rating made with `context`: each line's increments must stay within their step. */
export function periodSlack(tariff: CompiledTariffDocument, rating: Rating, context: RatingContext): PeriodSlack {
  const rule = ruleOf(tariff, rating);
  const shift = context.periodUnitsBefore - context.sessionUnitsBefore;
  let below = context.periodUnitsBefore;
  let above = UNITS_BEYOND;
  for (const line of rating.lines) {
    if (line.increments === 0n) continue;
    const interval = rule.intervals[line.interval]!;
    const band = line.band === null ? -1 : tariff.bands.names.indexOf(line.band);
    const schedule = interval.schedules[band + 1]!;
    const first = line.fromUnits + shift;
    const last = first + (line.increments - 1n) * interval.incrementUnits;
    const step = stepIndexAt(schedule, first);
    const stepEnd = schedule[step + 1]?.fromUnits ?? UNITS_BEYOND;
    if (first - schedule[step]!.fromUnits < below) below = first - schedule[step]!.fromUnits;
    if (stepEnd - 1n - last < above) above = stepEnd - 1n - last;
  }
  return { below, above };
}

export function narrowerSlack(left: PeriodSlack, right: PeriodSlack): PeriodSlack {
  return { below: left.below < right.below ? left.below : right.below, above: left.above < right.above ? left.above : right.above };
}

// The closed form at the heart of rating. Positions are units counted from the start of the
// session; the increments a session has started are paid for, so a charge of `units` after
// `sessionUnitsBefore` pays for the increments that start in [billed(before), billed(before + units)).
// Each increment is priced whole by what is in force where it starts: its interval (session
// position), its tier (period position) and its band (the instant its first unit is used).
// Between two boundaries of any of these, every increment costs the same, so the walk takes
// one step per stretch: bounded by intervals + band changes + tier steps, never per increment.
//
// Pricing by where an increment starts, and paying only increments not already started, is what
// makes splitting exact: rating [a, b) then [b, c) sums to exactly the numerator of [a, c).
import { UNITS_BEYOND, type CompiledInterval, type CompiledRateRule, type CompiledStep } from './compiled-tariff.js';
import { ceilDivide } from './exact-money.js';

/** Bands in force along the session: `bands[k]` from session position `starts[k]`; `starts[0]` is ignored. */
export interface BandPositions {
  starts: bigint[];
  bands: number[];
}

export const NO_BANDS: BandPositions = Object.freeze({ starts: [0n], bands: [-1] }) as BandPositions;

/** A stretch of increments that cost the same. */
export interface Stretch {
  interval: number;
  band: number;
  step: CompiledStep;
  /** Session position of the first increment. */
  fromUnits: bigint;
  increments: bigint;
  incrementUnits: bigint;
}

export interface Walk {
  /** Where the paid increments start and end: billed(before) and billed(before + units). */
  fromUnits: bigint;
  toUnits: bigint;
  stretches: Stretch[];
}

function intervalAt(rule: CompiledRateRule, position: bigint): number {
  let index = 0;
  while (index + 1 < rule.intervals.length && rule.intervals[index + 1]!.fromUnits <= position) index++;
  return index;
}

/** The end of the increment that `position` falls in: the session's billed units. */
export function billedUnits(rule: CompiledRateRule, position: bigint): bigint {
  const interval = rule.intervals[intervalAt(rule, position)]!;
  return interval.fromUnits + ceilDivide(position - interval.fromUnits, interval.incrementUnits) * interval.incrementUnits;
}

function stepAt(schedule: CompiledStep[], periodUnits: bigint): number {
  let index = 0;
  while (index + 1 < schedule.length && schedule[index + 1]!.fromUnits <= periodUnits) index++;
  return index;
}

interface Cursor {
  interval: number;
  band: number;
}

/** The stretch from `position` to the next boundary of interval, band or tier (or `toUnits`). */
function stretchAt(rule: CompiledRateRule, bands: BandPositions, cursor: Cursor, position: bigint, periodShift: bigint, toUnits: bigint): Stretch {
  const interval: CompiledInterval = rule.intervals[cursor.interval]!;
  const band = bands.bands[cursor.band]!;
  const schedule = interval.schedules[band + 1]!;
  const stepIndex = stepAt(schedule, position + periodShift);
  let end = toUnits;
  const nextInterval = rule.intervals[cursor.interval + 1]?.fromUnits ?? UNITS_BEYOND;
  const nextBand = bands.starts[cursor.band + 1] ?? UNITS_BEYOND;
  const nextStep = (schedule[stepIndex + 1]?.fromUnits ?? UNITS_BEYOND) - periodShift;
  if (nextInterval < end) end = nextInterval;
  if (nextBand < end) end = nextBand;
  if (nextStep < end) end = nextStep;
  const increments = ceilDivide(end - position, interval.incrementUnits);
  return { interval: cursor.interval, band, step: schedule[stepIndex]!, fromUnits: position, increments, incrementUnits: interval.incrementUnits };
}

/**
 * The stretches a charge of `units` pays for. `periodUnitsBefore` places the tiers: the
 * increment starting at session position p is at period position p + (period - session).
 */
export function walk(rule: CompiledRateRule, bands: BandPositions, sessionUnitsBefore: bigint, periodUnitsBefore: bigint, units: bigint): Walk {
  const fromUnits = billedUnits(rule, sessionUnitsBefore);
  const toUnits = billedUnits(rule, sessionUnitsBefore + units);
  const periodShift = periodUnitsBefore - sessionUnitsBefore;
  const cursor: Cursor = { interval: intervalAt(rule, fromUnits), band: 0 };
  const stretches: Stretch[] = [];
  // Each turn passes a boundary or ends a stretch at one; there are no more boundaries than this.
  const turnsMax = 2 * (rule.boundaryCount + bands.bands.length) + 1;
  let position = fromUnits;
  for (let turn = 0; position < toUnits; turn++) {
    if (turn > turnsMax) throw new Error(`walk: more than ${turnsMax} turns`);
    if ((rule.intervals[cursor.interval + 1]?.fromUnits ?? UNITS_BEYOND) <= position) cursor.interval++;
    else if ((bands.starts[cursor.band + 1] ?? UNITS_BEYOND) <= position) cursor.band++;
    else {
      const stretch = stretchAt(rule, bands, cursor, position, periodShift, toUnits);
      stretches.push(stretch);
      position += stretch.increments * stretch.incrementUnits;
    }
  }
  return { fromUnits, toUnits, stretches };
}

export function stretchNumerator(stretch: Stretch): bigint {
  return stretch.increments * stretch.step.incrementNumerator;
}

/**
 * The furthest session position whose increments fit in `limitNumerator`, having spent
 * `spentNumerator` (at most the limit) before the walk: closed form within each stretch.
 */
export function furthestWithin(stretches: readonly Stretch[], fromUnits: bigint, spentNumerator: bigint, limitNumerator: bigint): bigint {
  let spent = spentNumerator;
  let position = fromUnits;
  for (const stretch of stretches) {
    const cost = stretchNumerator(stretch);
    if (spent + cost <= limitNumerator) {
      spent += cost;
      position = stretch.fromUnits + stretch.increments * stretch.incrementUnits;
      continue;
    }
    const affordable = (limitNumerator - spent) / stretch.step.incrementNumerator;
    return stretch.fromUnits + affordable * stretch.incrementUnits;
  }
  return position;
}

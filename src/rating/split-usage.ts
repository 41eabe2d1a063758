// Tariff versions: the engine rates against one version, and a usage that straddles a
// version's effective time is split there by the caller, each part rated with its own version,
// the second after the first in the same session and period (contextAfter).
//
// The split follows the engine's own time rule (rate-usage.ts): the units before the instant
// are those whose increments would have started before it. With the same tariff on both sides,
// the parts' exact (unrounded) totals equal the whole's when the split instant falls on a unit
// boundary of the report (always for seconds: part two starts at a whole second), or when no
// band changes inside either part. Otherwise the second part's own spread may move a later band
// change by less than one unit. Rounded, the parts are two charges, so their sum is within one
// rounding step of the whole: up, the whole or one step more; down, the whole or one step less.
import type { RatingContext } from './charge-rule.js';
import type { CompiledTariffDocument } from './compiled-tariff.js';
import { ceilDivide } from './exact-money.js';
import { rateUsage, type Rating, type RatingFailure, type Usage } from './rate-usage.js';

function clampUnits(units: bigint, most: bigint): bigint {
  return units < 0n ? 0n : units > most ? most : units;
}

/** The usage before `atMs` and the usage from it; either may have 0 units. */
export function splitUsage(usage: Usage, atMs: number): [before: Usage, after: Usage] {
  if (usage.unit === 'seconds') {
    const beforeUnits = clampUnits(ceilDivide(BigInt(atMs - usage.startMs), 1000n), usage.units);
    return [{ ...usage, units: beforeUnits }, { ...usage, units: usage.units - beforeUnits, startMs: usage.startMs + Number(beforeUnits) * 1000 }];
  }
  const endMs = usage.endMs ?? usage.startMs;
  const splitMs = Math.min(Math.max(atMs, usage.startMs), endMs);
  const beforeUnits = endMs === usage.startMs
    ? (atMs > usage.startMs ? usage.units : 0n)
    : clampUnits(ceilDivide(usage.units * BigInt(splitMs - usage.startMs), BigInt(endMs - usage.startMs)), usage.units);
  return [{ ...usage, units: beforeUnits, endMs: splitMs }, { ...usage, units: usage.units - beforeUnits, startMs: splitMs, endMs }];
}

/** The context of the session's next charge after `units` were rated as `rating`. */
export function contextAfter(context: RatingContext, units: bigint, rating: Rating): RatingContext {
  return {
    sessionUnitsBefore: context.sessionUnitsBefore + units,
    sessionRatedMicrosBefore: context.sessionRatedMicrosBefore + rating.ratedMicros,
    periodUnitsBefore: context.periodUnitsBefore + units,
  };
}

export interface TariffVersion {
  /** In force from this instant until the next version's. */
  effectiveFromMs: number;
  tariff: CompiledTariffDocument;
}

export interface VersionedRating {
  ok: true;
  amountMicros: bigint;
  /** One part per version the usage touched, in time order. */
  parts: { version: number; usage: Usage; rating: Rating }[];
  /** The context after the whole usage. */
  context: RatingContext;
}

/**
 * Rates a usage across tariff versions, in effective order, splitting it at each change. The
 * first version prices anything before its own effective time: the catalog keeps one in force.
 */
export function rateAcrossVersions(versions: readonly TariffVersion[], usage: Usage, context: RatingContext): VersionedRating | RatingFailure {
  if (versions.some((version, index) => index > 0 && version.effectiveFromMs <= versions[index - 1]!.effectiveFromMs)) {
    throw new Error('rateAcrossVersions: versions must be in effective order, each after the one before');
  }
  const result: VersionedRating = { ok: true, amountMicros: 0n, parts: [], context };
  let rest = usage;
  for (let version = 0; version < versions.length; version++) {
    const nextFromMs = versions[version + 1]?.effectiveFromMs;
    const [part, after] = nextFromMs === undefined ? [rest, undefined] : splitUsage(rest, nextFromMs);
    if (part.units > 0n || (after === undefined && result.parts.length === 0)) {
      const rating = rateUsage(versions[version]!.tariff, part, result.context);
      if (!rating.ok) return rating;
      result.parts.push({ version, usage: part, rating });
      result.amountMicros += rating.amountMicros;
      result.context = contextAfter(result.context, part.units, rating);
    }
    if (after === undefined) break;
    rest = after;
  }
  return result;
}

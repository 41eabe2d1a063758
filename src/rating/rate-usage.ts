// The rating engine's entry points: a compiled tariff, a usage and where it falls (context) →
// the money, in micros, and a breakdown of the rate, zone, intervals, bands and tiers that
// priced it. Also the inverse (how much of a request a budget buys) and price enquiries, which
// are the same call for usage that has not happened yet. Pure: no I/O, no clock.
//
// How units map to time, for bands:
// - seconds: units are time. Unit p of the charge is the second from startMs + p s.
// - bytes and events: a report says only how many units were used over [startMs, endMs], so the
//   units are taken as spread evenly over it. It is the one assumption that needs no knowledge
//   the gateway did not send, is linear (so splitting a report at an instant gives each part its
//   share), and treats every band alike. Without endMs (an event, a reservation, an enquiry)
//   all units are at startMs.
// An increment is priced in the band in force at its first unit (see price-walk.ts).
import { bandChanges, USAGE_SPAN_MS_MAX } from './band-runs.js';
import { affordRule, chargeRule, type Charge, type RatingContext, type SessionLimit } from './charge-rule.js';
import type { CompiledRateRule, CompiledTariffDocument, CompiledZones } from './compiled-tariff.js';
import { ceilDivide, type ExactAmount } from './exact-money.js';
import { NO_BANDS, type BandPositions } from './price-walk.js';
import type { TierScope } from './tariff-format.js';

export type RatingGroupUnit = 'bytes' | 'seconds' | 'events';

/** Where the device is, as the gateway reports it: a network (MCC and MNC) or a zone id. */
export interface Location {
  mcc?: string;
  mnc?: string;
  zoneId?: string;
}

export interface UsageAttributes {
  serviceId?: number;
  apn?: string;
  qosClass?: number;
  deviceType?: string;
}

export interface Usage {
  ratingGroup: number;
  /** The rating group's unit: decides how units map to time. */
  unit: RatingGroupUnit;
  units: bigint;
  startMs: number;
  /** For bytes and events: the end of the span the units were used over. Absent: an instant. */
  endMs?: number;
  location?: Location;
  attributes?: UsageAttributes;
}

export interface RatingLine {
  /** Index into the rate's intervals. */
  interval: number;
  band: string | null;
  /** Index into the interval's tier steps, or null for a flat price. */
  tier: number | null;
  /** A volume tier's free stretch while its lower price catches up with what was charged. */
  catchUp: boolean;
  /** Session position of the first increment; `units` = increments × increment size. */
  fromUnits: bigint;
  units: bigint;
  increments: bigint;
  price: string;
  perUnits: bigint;
  amount: ExactAmount;
}

export interface Rating {
  ok: true;
  /** What to charge for this usage: rounded once, within the session's minimum and maximum. */
  amountMicros: bigint;
  /** This charge rounded, before minimum and maximum: add it to `sessionRatedMicrosBefore`. */
  ratedMicros: bigint;
  /** Connect fee plus lines, before rounding. */
  exact: ExactAmount;
  /** The connect fee when this charge carries it. */
  connectFee: ExactAmount | null;
  limit: SessionLimit;
  /** Index into the tariff's rates. */
  rate: number;
  tierScope: TierScope;
  /** Null when the tariff has no zones. */
  zone: string | null;
  /** The location was not in any zone and the default zone priced it. */
  zoneFallback: boolean;
  lines: RatingLine[];
}

export type RatingFailureReason = 'unknown-location' | 'no-rate';

/** "Rating failed" (5031): nothing is charged. */
export interface RatingFailure {
  ok: false;
  reason: RatingFailureReason;
  message: string;
}

/** A usage that no caller should send: the field is named, as at the API's edge. */
export class RatingInputError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'RatingInputError';
  }
}

export interface SelectedRate {
  ok: true;
  rule: CompiledRateRule;
  zone: number;
  zoneFallback: boolean;
}

type ZoneFound = { zone: number; fallback: boolean } | RatingFailure;

/** Most specific first: the network, its country, a zone id; else the default zone. */
function zoneOf(zones: CompiledZones, location: Location | undefined): ZoneFound {
  if (zones.names.length === 0) return { zone: -1, fallback: false };
  const network = location?.mcc === undefined ? undefined : zones.byNetwork.get(`${location.mcc}-${location.mnc ?? ''}`) ?? zones.byCountry.get(location.mcc);
  const zone = network ?? (location?.zoneId === undefined ? undefined : zones.byLocationId.get(location.zoneId));
  if (zone !== undefined) return { zone, fallback: false };
  if (zones.defaultZone >= 0) return { zone: zones.defaultZone, fallback: true };
  return { ok: false, reason: 'unknown-location', message: `no zone of the tariff holds location ${describeLocation(location)}, and it has no default zone` };
}

function describeLocation(location: Location | undefined): string {
  if (location?.mcc !== undefined) return `${location.mcc}-${location.mnc ?? ''}`;
  return location?.zoneId === undefined ? '(none)' : `"${location.zoneId}"`;
}

function matches(rule: CompiledRateRule, zone: number, attributes: UsageAttributes): boolean {
  return (rule.zones === null || rule.zones.has(zone))
    && (rule.serviceId === undefined || rule.serviceId === attributes.serviceId)
    && (rule.apn === undefined || rule.apn === attributes.apn)
    && (rule.qosClass === undefined || rule.qosClass === attributes.qosClass)
    && (rule.deviceType === undefined || rule.deviceType === attributes.deviceType);
}

const NO_ATTRIBUTES: UsageAttributes = Object.freeze({});

/**
 * The rate for a usage: its zone, then the most specific rate of its rating group whose
 * selectors all match (zone > service id > APN > QoS class > device type; see README).
 */
export function selectRate(tariff: CompiledTariffDocument, usage: Pick<Usage, 'ratingGroup' | 'location' | 'attributes'>): SelectedRate | RatingFailure {
  const found = zoneOf(tariff.zones, usage.location);
  if ('ok' in found) return found;
  const attributes = usage.attributes ?? NO_ATTRIBUTES;
  for (const rule of tariff.rules.get(usage.ratingGroup) ?? []) {
    if (matches(rule, found.zone, attributes)) return { ok: true, rule, zone: found.zone, zoneFallback: found.fallback };
  }
  const where = found.zone >= 0 ? ` in zone "${tariff.zones.names[found.zone]}"` : '';
  return { ok: false, reason: 'no-rate', message: `the tariff prices rating group ${usage.ratingGroup}${where} with none of these features` };
}

function checkUsage(usage: Usage, context: RatingContext): void {
  if (usage.units < 0n) throw new RatingInputError('units', 'must be at least 0');
  if (!Number.isSafeInteger(usage.startMs)) throw new RatingInputError('startMs', 'must be a whole number of milliseconds');
  if (usage.endMs !== undefined && !(Number.isSafeInteger(usage.endMs) && usage.endMs >= usage.startMs)) throw new RatingInputError('endMs', 'must be a whole number of milliseconds, not before startMs');
  for (const field of ['sessionUnitsBefore', 'sessionRatedMicrosBefore', 'periodUnitsBefore'] as const) {
    if (context[field] < 0n) throw new RatingInputError(field, 'must be at least 0');
  }
}

/** Milliseconds per unit as a fraction, and the span the units take. */
function timingOf(usage: Usage): { msPerUnitNumerator: bigint; msPerUnitDenominator: bigint; endMs: number } {
  if (usage.unit === 'seconds') {
    const spanMs = usage.units * 1000n;
    if (spanMs > BigInt(USAGE_SPAN_MS_MAX)) throw new RatingInputError('units', `must be at most ${USAGE_SPAN_MS_MAX / 1000} seconds where the tariff has bands`);
    return { msPerUnitNumerator: 1000n, msPerUnitDenominator: 1n, endMs: usage.startMs + Number(spanMs) };
  }
  const endMs = usage.endMs ?? usage.startMs;
  if (endMs - usage.startMs > USAGE_SPAN_MS_MAX) throw new RatingInputError('endMs', `must be at most ${USAGE_SPAN_MS_MAX / 86_400_000} days after startMs where the tariff has bands`);
  return { msPerUnitNumerator: BigInt(endMs - usage.startMs), msPerUnitDenominator: usage.units === 0n ? 1n : usage.units, endMs };
}

/** Band changes over the usage, as session positions: unit p is at startMs + (p - before) × ms per unit. */
function bandPositions(tariff: CompiledTariffDocument, usage: Usage, sessionUnitsBefore: bigint): BandPositions {
  if (tariff.bands.names.length === 0) return NO_BANDS;
  const timing = timingOf(usage);
  const changes = bandChanges(tariff.bands, usage.startMs, timing.endMs);
  const positions: BandPositions = { starts: [sessionUnitsBefore], bands: [changes.bands[0]!] };
  for (let index = 1; index < changes.bands.length; index++) {
    // The first unit at or after the change: p - before ≥ (change - start) ÷ ms per unit.
    const start = sessionUnitsBefore + ceilDivide(BigInt(changes.startsMs[index]! - usage.startMs) * timing.msPerUnitDenominator, timing.msPerUnitNumerator);
    // Changes within one unit of each other: the later one holds from that unit.
    if (start === positions.starts.at(-1)) {
      positions.starts.pop();
      positions.bands.pop();
    }
    if (positions.bands.at(-1) === changes.bands[index]) continue;
    positions.starts.push(start);
    positions.bands.push(changes.bands[index]!);
  }
  return positions;
}

function breakdown(tariff: CompiledTariffDocument, selected: SelectedRate, charge: Charge): Rating {
  const { rule } = selected;
  const lines = charge.walk.stretches.map((stretch): RatingLine => ({
    interval: stretch.interval,
    band: stretch.band < 0 ? null : tariff.bands.names[stretch.band]!,
    tier: stretch.step.tier,
    catchUp: stretch.step.catchUp,
    fromUnits: stretch.fromUnits,
    units: stretch.increments * stretch.incrementUnits,
    increments: stretch.increments,
    price: stretch.step.price,
    perUnits: rule.intervals[stretch.interval]!.perUnits,
    amount: { numerator: stretch.increments * stretch.step.incrementNumerator, denominator: rule.denominator },
  }));
  return {
    ok: true,
    amountMicros: charge.amountMicros,
    ratedMicros: charge.ratedMicros,
    exact: { numerator: charge.numerator, denominator: rule.denominator },
    connectFee: charge.feeNumerator === 0n ? null : { numerator: charge.feeNumerator, denominator: rule.denominator },
    limit: charge.limit,
    rate: rule.index,
    tierScope: rule.tierScope,
    zone: selected.zone < 0 ? null : tariff.zones.names[selected.zone]!,
    zoneFallback: selected.zoneFallback,
    lines,
  };
}

/**
 * Rates a usage: a commit, a one-shot event, a reservation or a price enquiry ("what would N
 * units cost now, and why"). The connect fee and the minimum come with a session's first units.
 */
export function rateUsage(tariff: CompiledTariffDocument, usage: Usage, context: RatingContext): Rating | RatingFailure {
  checkUsage(usage, context);
  const selected = selectRate(tariff, usage);
  if (!selected.ok) return selected;
  const bands = bandPositions(tariff, usage, context.sessionUnitsBefore);
  const charge = chargeRule(selected.rule, tariff.rounding, bands, context, usage.units, context.sessionUnitsBefore === 0n);
  return breakdown(tariff, selected, charge);
}

export interface AffordableUsage {
  ok: true;
  /** All of the requested units, or as many whole increments as the budget pays for. */
  units: bigint;
  rating: Rating;
}

/**
 * The most of `usage.units` that `budgetMicros` buys, with its rating. A bounded walk over the
 * stretches of the whole request, never per increment. With a span (bytes, events), the units
 * keep the request's spread: the answer is the first N units of the request as asked.
 */
export function affordableUsage(tariff: CompiledTariffDocument, usage: Usage, context: RatingContext, budgetMicros: bigint): AffordableUsage | RatingFailure {
  checkUsage(usage, context);
  const selected = selectRate(tariff, usage);
  if (!selected.ok) return selected;
  const bands = bandPositions(tariff, usage, context.sessionUnitsBefore);
  const found = affordRule(selected.rule, tariff.rounding, bands, context, usage.units, budgetMicros, context.sessionUnitsBefore === 0n);
  return { ok: true, units: found.units, rating: breakdown(tariff, selected, found.charge) };
}

export type { RatingContext } from './charge-rule.js';
export { NEW_SESSION } from './charge-rule.js';

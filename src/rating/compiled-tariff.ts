// A validated tariff document compiled for rating: prices as integers over one denominator per
// rate, volume tiers turned into the graduated schedule they charge online, a calendar of band
// timelines, zone lookups by network and location id, and rates per rating group in order of
// precedence.
import { bandCalendar } from './bands.js';
import type { CompiledBands } from './band-runs.js';
import { Decimal } from './decimal.js';
import { ceilDivide, powerOfTen } from './exact-money.js';
import type { FinalUnitActionName, Rounding } from './tariff-terms.js';
import type { IntervalDocument, RateDocument, TariffDocument, TierScope, TierStepDocument } from './tariff-format.js';

/** A position no usage reaches: past 2^53 units of anything. */
export const UNITS_BEYOND = 1n << 80n;

/** One price in force from a position in the period (tiers) for one band of one interval. */
export interface CompiledStep {
  /** Units used in the period before this step applies. */
  fromUnits: bigint;
  /** Money of one whole increment, over the rate's denominator. */
  incrementNumerator: bigint;
  /** The same at the tier's own price, also on a catch-up step (which charges nothing). */
  listNumerator: bigint;
  /** Tier index, or null for a flat price. */
  tier: number | null;
  /** A volume tier's stretch that is free while the cheaper price catches up (see compileVolume). */
  catchUp: boolean;
  /** As written, per the interval's per_units, for breakdowns. */
  price: string;
}

export interface CompiledInterval {
  fromUnits: bigint;
  incrementUnits: bigint;
  perUnits: bigint;
  /** Its tiers are volume tiers (compiled as catch-up steps, see compileVolume). */
  volume: boolean;
  /** Steps in force per band: index 0 with no band in force, band b at b + 1. */
  schedules: CompiledStep[][];
}

export interface CompiledRateRule {
  /** Position in the document's rates, for breakdowns. */
  index: number;
  ratingGroup: number;
  /** Zone indexes this rate prices, or null for every zone. */
  zones: ReadonlySet<number> | null;
  serviceId: number | undefined;
  apn: string | undefined;
  qosClass: number | undefined;
  deviceType: string | undefined;
  /** Higher is more specific: zone, then service id, APN, QoS class, device type. */
  precedence: number;
  tierScope: TierScope;
  /** Every money numerator of this rate is over this. */
  denominator: bigint;
  connectFeeNumerator: bigint;
  minimumMicros: bigint | null;
  maximumMicros: bigint | null;
  intervals: CompiledInterval[];
  /** Interval starts plus tier steps of every schedule: bounds the walk over them. */
  boundaryCount: number;
}

export interface CompiledZones {
  names: string[];
  byNetwork: Map<string, number>;
  byCountry: Map<string, number>;
  byLocationId: Map<string, number>;
  /** -1 when the tariff has none. */
  defaultZone: number;
}

export interface CompiledTariffDocument {
  name: string;
  currency: string;
  rounding: Rounding;
  finalUnitAction: FinalUnitActionName;
  bands: CompiledBands;
  zones: CompiledZones;
  /** Per rating group, most specific first. */
  rules: Map<number, CompiledRateRule[]>;
}

export interface NameIndexes {
  bands: ReadonlyMap<string, number>;
  zones: ReadonlyMap<string, number>;
}

export const NO_NAMES: NameIndexes = { bands: new Map(), zones: new Map() };

function indexByName(items: readonly { name: string }[]): Map<string, number> {
  return new Map(items.map((item, index) => [item.name, index]));
}

/** Compiles a document that parseTariffDocument accepted. */
export function compileTariffDocument(document: TariffDocument): CompiledTariffDocument {
  const bands = document.bands ?? [];
  const names: NameIndexes = { bands: indexByName(bands), zones: indexByName(document.zones ?? []) };
  const rules = new Map<number, CompiledRateRule[]>();
  document.rates.forEach((rate, index) => {
    const rule = compileRateRule(rate, index, names);
    rules.set(rule.ratingGroup, [...(rules.get(rule.ratingGroup) ?? []), rule].sort((a, b) => b.precedence - a.precedence));
  });
  return {
    name: document.name,
    currency: document.currency,
    rounding: { ...document.rounding },
    finalUnitAction: document.final_unit_action,
    bands: { timeZone: document.time_zone, names: bands.map((band) => band.name), calendar: bandCalendar(bands) },
    zones: compileZones(document, names.zones),
    rules,
  };
}

function compileZones(document: TariffDocument, zoneIndexes: ReadonlyMap<string, number>): CompiledZones {
  const zones: CompiledZones = { names: [...zoneIndexes.keys()], byNetwork: new Map(), byCountry: new Map(), byLocationId: new Map(), defaultZone: -1 };
  (document.zones ?? []).forEach((zone, index) => {
    for (const network of zone.networks ?? []) (network.includes('-') ? zones.byNetwork : zones.byCountry).set(network, index);
    for (const locationId of zone.location_ids ?? []) zones.byLocationId.set(locationId, index);
  });
  if (document.default_zone !== undefined) zones.defaultZone = zoneIndexes.get(document.default_zone)!;
  return zones;
}

function precedenceOf(rate: RateDocument): number {
  const has = (value: unknown, bit: number): number => (value === undefined ? 0 : bit);
  return has(rate.zones, 16) + has(rate.service_id, 8) + has(rate.apn, 4) + has(rate.qos_class, 2) + has(rate.device_type, 1);
}

function pricesOf(rate: RateDocument): string[] {
  return [rate.connect_fee, ...rate.intervals.flatMap((interval) => [
    ...(interval.price === undefined ? [] : [interval.price]),
    ...Object.values(interval.band_prices ?? {}),
    ...(interval.tiers?.steps ?? []).flatMap((step) => [step.price, ...Object.values(step.band_prices ?? {})]),
  ])];
}

function greatestCommonDivisor(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** Money scale of one rate: prices become integers over 10^decimals × lcm(per_units). */
interface Scale {
  decimals: number;
  perUnitsLcm: bigint;
}

function scaledInteger(price: string, decimals: number): bigint {
  return BigInt(new Decimal(price).times(powerOfTen(decimals).toString()).toFixed(0));
}

function micros(amount: string | undefined): bigint | null {
  return amount === undefined ? null : scaledInteger(amount, 6);
}

export function compileRateRule(rate: RateDocument, index: number, names: NameIndexes): CompiledRateRule {
  const scale: Scale = {
    decimals: Math.max(0, ...pricesOf(rate).map((price) => price.split('.')[1]?.length ?? 0)),
    perUnitsLcm: rate.intervals.reduce((lcm, interval) => (lcm * BigInt(interval.per_units)) / greatestCommonDivisor(lcm, BigInt(interval.per_units)), 1n),
  };
  const intervals = rate.intervals.map((interval) => compileInterval(interval, scale, names.bands));
  return {
    index,
    ratingGroup: rate.rating_group,
    zones: rate.zones === undefined ? null : new Set(rate.zones.map((zone) => names.zones.get(zone)!)),
    serviceId: rate.service_id,
    apn: rate.apn,
    qosClass: rate.qos_class,
    deviceType: rate.device_type,
    precedence: precedenceOf(rate),
    tierScope: rate.tier_scope,
    denominator: powerOfTen(scale.decimals) * scale.perUnitsLcm,
    connectFeeNumerator: scaledInteger(rate.connect_fee, scale.decimals) * scale.perUnitsLcm,
    minimumMicros: micros(rate.min_charge),
    maximumMicros: micros(rate.max_charge),
    intervals,
    boundaryCount: intervals.reduce((count, interval) => count + 1 + interval.schedules.reduce((steps, schedule) => steps + schedule.length, 0), 0),
  };
}

function compileInterval(interval: IntervalDocument, scale: Scale, bandIndexes: ReadonlyMap<string, number>): CompiledInterval {
  const incrementUnits = BigInt(interval.increment_units);
  const perUnits = BigInt(interval.per_units);
  // Money of one increment at `price`: price × increment ÷ per_units, over the rate's denominator.
  const incrementNumerator = (price: string): bigint => scaledInteger(price, scale.decimals) * incrementUnits * (scale.perUnitsLcm / perUnits);
  const steps: TierStepDocument[] = interval.tiers?.steps ?? [{ price: interval.price!, band_prices: interval.band_prices }];
  const scheduleFor = (band: string | undefined): CompiledStep[] => {
    const prices = steps.map((step) => (band === undefined ? undefined : step.band_prices?.[band]) ?? step.price);
    if (interval.tiers?.mode === 'volume') return compileVolume(steps, prices, scale, incrementNumerator);
    return steps.map((_, tier) => ({
      fromUnits: tier === 0 ? 0n : BigInt(steps[tier - 1]!.up_to_units!),
      incrementNumerator: incrementNumerator(prices[tier]!),
      listNumerator: incrementNumerator(prices[tier]!),
      tier: interval.tiers === undefined ? null : tier,
      catchUp: false,
      price: prices[tier]!,
    }));
  };
  const base = scheduleFor(undefined);
  const usesBand = (band: string): boolean => steps.some((step) => step.band_prices?.[band] !== undefined);
  const schedules = [base, ...[...bandIndexes.keys()].map((band) => (usesBand(band) ? scheduleFor(band) : base))];
  return { fromUnits: BigInt(interval.from_units), incrementUnits, perUnits, volume: interval.tiers?.mode === 'volume', schedules };
}

/**
 * Volume tiers online. Offline, a volume tier reached prices every unit of the period, so
 * crossing into a cheaper tier would lower the total: 10 GB at 0.50 is 5.00 but 10.1 GB at 0.20
 * is 2.02. An online charge cannot be taken back, and more usage must never cost less, so the
 * period's total is the running maximum of the volume price: past a boundary, usage is free
 * until the cheaper price times the units used catches up with what was already charged, then
 * costs the new tier's price. (Tier prices may only fall; validation enforces it.) That is a
 * graduated schedule with a free "catch-up" step after each boundary, compiled once here.
 */
function compileVolume(steps: TierStepDocument[], prices: string[], scale: Scale, incrementNumerator: (price: string) => bigint): CompiledStep[] {
  const schedule: CompiledStep[] = [];
  // The period's total so far as units × scaled price: the tiers share per_units, so it compares.
  const scaledPrices = prices.map((price) => scaledInteger(price, scale.decimals));
  let chargedTotal = 0n;
  steps.forEach((step, tier) => {
    const fromUnits = tier === 0 ? 0n : BigInt(steps[tier - 1]!.up_to_units!);
    const untilUnits = step.up_to_units === undefined ? UNITS_BEYOND : BigInt(step.up_to_units);
    if (tier > 0 && scaledPrices[tier - 1]! * fromUnits > chargedTotal) chargedTotal = scaledPrices[tier - 1]! * fromUnits;
    const price = scaledPrices[tier]!;
    const paidFromUnits = price === 0n ? untilUnits : clamp(ceilDivide(chargedTotal, price), fromUnits, untilUnits);
    const listNumerator = incrementNumerator(prices[tier]!);
    if (paidFromUnits > fromUnits) schedule.push({ fromUnits, incrementNumerator: 0n, listNumerator, tier, catchUp: price !== 0n, price: prices[tier]! });
    if (paidFromUnits < untilUnits) schedule.push({ fromUnits: paidFromUnits, incrementNumerator: listNumerator, listNumerator, tier, catchUp: false, price: prices[tier]! });
  });
  return schedule;
}

function clamp(value: bigint, low: bigint, high: bigint): bigint {
  return value < low ? low : value > high ? high : value;
}

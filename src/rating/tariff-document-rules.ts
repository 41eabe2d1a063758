// The rules a well-formed tariff must also keep, checked after its shape: each problem names
// the path of the field to fix. A tariff with any problem is rejected whole.
import { Decimal } from './decimal.js';
import { bandCoverage, coveragesOverlap, minutesOfClock } from './bands.js';
import type { BandDocument, IntervalDocument, RateDocument, TariffDocument, TierStepDocument } from './tariff-format.js';

export interface RuleProblem {
  path: (string | number)[];
  message: string;
}

export function checkTariffRules(document: TariffDocument): RuleProblem[] {
  return [
    ...checkBands(document.bands ?? []),
    ...checkZones(document),
    ...document.rates.flatMap((rate, index) => checkRate(document, rate, index)),
    ...checkRatesDistinct(document.rates),
  ];
}

function duplicates<Item>(items: readonly Item[], key: (item: Item) => string, problem: (index: number, firstIndex: number) => RuleProblem): RuleProblem[] {
  const seen = new Map<string, number>();
  const problems: RuleProblem[] = [];
  items.forEach((item, index) => {
    const first = seen.get(key(item));
    if (first === undefined) seen.set(key(item), index);
    else problems.push(problem(index, first));
  });
  return problems;
}

function checkBands(bands: readonly BandDocument[]): RuleProblem[] {
  const problems = duplicates(bands, (band) => band.name, (index, first) => ({ path: ['bands', index, 'name'], message: `"${bands[index]!.name}" is already the name of bands[${first}]` }));
  bands.forEach((band, index) => {
    if (band.days !== undefined && band.dates !== undefined) problems.push({ path: ['bands', index, 'dates'], message: 'a band names either days or dates, not both' });
    if (band.from === '24:00') problems.push({ path: ['bands', index, 'from'], message: 'must be before 24:00' });
    else if (band.until !== undefined && minutesOfClock(band.from, 0) === minutesOfClock(band.until, 0)) {
      problems.push({ path: ['bands', index, 'until'], message: 'must differ from from; leave both out for the whole day' });
    }
  });
  if (problems.length > 0) return problems;
  const coverages = bands.map(bandCoverage);
  for (let later = 0; later < bands.length; later++) {
    for (let earlier = 0; earlier < later; earlier++) {
      if (bands[earlier]!.weight !== bands[later]!.weight || !coveragesOverlap(coverages[earlier]!, coverages[later]!)) continue;
      problems.push({
        path: ['bands', later],
        message: `overlaps band "${bands[earlier]!.name}" (bands[${earlier}]) with the same weight ${bands[later]!.weight}; give one of them a higher weight`,
      });
    }
  }
  return problems;
}

function checkZones(document: TariffDocument): RuleProblem[] {
  const zones = document.zones ?? [];
  const problems = duplicates(zones, (zone) => zone.name, (index, first) => ({ path: ['zones', index, 'name'], message: `"${zones[index]!.name}" is already the name of zones[${first}]` }));
  const owners = new Map<string, string>();
  zones.forEach((zone, index) => {
    for (const field of ['networks', 'location_ids'] as const) {
      (zone[field] ?? []).forEach((location, position) => {
        const key = `${field}:${location}`;
        const owner = owners.get(key);
        if (owner !== undefined) problems.push({ path: ['zones', index, field, position], message: `"${location}" is already in zone "${owner}"` });
        owners.set(key, zone.name);
      });
    }
    const mapsSomething = (zone.networks?.length ?? 0) + (zone.location_ids?.length ?? 0) > 0;
    if (!mapsSomething && zone.name !== document.default_zone) {
      problems.push({ path: ['zones', index], message: `zone "${zone.name}" maps no location: give it networks or location_ids, or make it the default_zone` });
    }
  });
  if (document.default_zone !== undefined && !zones.some((zone) => zone.name === document.default_zone)) {
    problems.push({ path: ['default_zone'], message: `"${document.default_zone}" is not a zone of this tariff` });
  }
  return problems;
}

function checkRate(document: TariffDocument, rate: RateDocument, index: number): RuleProblem[] {
  const at = (...path: (string | number)[]): (string | number)[] => ['rates', index, ...path];
  const zoneNames = new Set((document.zones ?? []).map((zone) => zone.name));
  const problems: RuleProblem[] = [];
  (rate.zones ?? []).forEach((zone, position) => {
    if (!zoneNames.has(zone)) problems.push({ path: at('zones', position), message: `"${zone}" is not a zone of this tariff` });
  });
  problems.push(...checkSessionLimits(document, rate, at));
  rate.intervals.forEach((interval, position) => problems.push(...checkInterval(document, rate.intervals, interval, position, (...path) => at('intervals', position, ...path))));
  return problems;
}

type PathOf = (...path: (string | number)[]) => (string | number)[];

function checkSessionLimits(document: TariffDocument, rate: RateDocument, at: PathOf): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const decimals = document.rounding.decimals;
  for (const field of ['min_charge', 'max_charge'] as const) {
    const value = rate[field];
    if (value !== undefined && new Decimal(value).decimalPlaces() > decimals) {
      problems.push({ path: at(field), message: `must have at most ${decimals} decimals, as the tariff rounds to ${decimals}` });
    }
  }
  if (rate.min_charge !== undefined && rate.max_charge !== undefined && new Decimal(rate.max_charge).lessThan(rate.min_charge)) {
    problems.push({ path: at('max_charge'), message: `must be at least min_charge (${rate.min_charge})` });
  }
  return problems;
}

function checkInterval(document: TariffDocument, intervals: readonly IntervalDocument[], interval: IntervalDocument, position: number, at: PathOf): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const previous = intervals[position - 1];
  if (previous === undefined && interval.from_units !== 0) problems.push({ path: at('from_units'), message: 'the first interval must start at 0' });
  if (previous !== undefined && interval.from_units <= previous.from_units) {
    problems.push({ path: at('from_units'), message: `must be greater than the previous interval's from_units (${previous.from_units})` });
  } else if (previous !== undefined && (interval.from_units - previous.from_units) % previous.increment_units !== 0) {
    problems.push({ path: at('from_units'), message: `must be a whole number of the previous interval's increments (${previous.increment_units}) after its start (${previous.from_units})` });
  }
  if (interval.price === undefined && interval.tiers === undefined) problems.push({ path: at('price'), message: 'is required unless the interval has tiers' });
  if (interval.price !== undefined && interval.tiers !== undefined) problems.push({ path: at('tiers'), message: 'an interval has either a price or tiers, not both' });
  if (interval.tiers !== undefined && interval.band_prices !== undefined) problems.push({ path: at('band_prices'), message: 'with tiers, band prices belong on each tier step' });
  problems.push(...checkBandPrices(document, interval.band_prices, at));
  interval.tiers?.steps.forEach((step, index) => problems.push(...checkBandPrices(document, step.band_prices, (...path) => at('tiers', 'steps', index, ...path))));
  if (interval.tiers !== undefined) problems.push(...checkTierSteps(document, interval.tiers.mode, interval.tiers.steps, (...path) => at('tiers', 'steps', ...path)));
  return problems;
}

function checkBandPrices(document: TariffDocument, bandPrices: Record<string, string> | undefined, at: PathOf): RuleProblem[] {
  const bandNames = new Set((document.bands ?? []).map((band) => band.name));
  return Object.keys(bandPrices ?? {}).filter((band) => !bandNames.has(band)).map((band) => ({ path: at('band_prices', band), message: `"${band}" is not a band of this tariff` }));
}

function checkTierSteps(document: TariffDocument, mode: 'graduated' | 'volume', steps: readonly TierStepDocument[], at: PathOf): RuleProblem[] {
  const problems: RuleProblem[] = [];
  steps.forEach((step, index) => {
    const last = index === steps.length - 1;
    const previousUpTo = steps[index - 1]?.up_to_units ?? 0;
    if (!last && step.up_to_units === undefined) problems.push({ path: at(index, 'up_to_units'), message: 'is required on every step but the last' });
    if (last && step.up_to_units !== undefined) problems.push({ path: at(index, 'up_to_units'), message: 'must be left out on the last step, which has no upper end' });
    if (step.up_to_units !== undefined && step.up_to_units <= previousUpTo) {
      problems.push({ path: at(index, 'up_to_units'), message: `must be greater than the previous step's up_to_units (${previousUpTo})` });
    }
  });
  if (mode === 'volume') problems.push(...checkVolumePricesFall(document, steps, at));
  return problems;
}

/** A volume tier reprices every unit of the period; a dearer next tier would reprice units already charged. */
function checkVolumePricesFall(document: TariffDocument, steps: readonly TierStepDocument[], at: PathOf): RuleProblem[] {
  const problems: RuleProblem[] = [];
  for (const band of [undefined, ...(document.bands ?? []).map((each) => each.name)]) {
    for (let index = 1; index < steps.length; index++) {
      const priceOf = (step: TierStepDocument): string => (band === undefined ? undefined : step.band_prices?.[band]) ?? step.price;
      if (!new Decimal(priceOf(steps[index]!)).greaterThan(priceOf(steps[index - 1]!))) continue;
      const field = band !== undefined && steps[index]!.band_prices?.[band] !== undefined ? ['band_prices', band] : ['price'];
      problems.push({ path: at(index, ...field), message: `a volume tier may not cost more than the tier before it${band === undefined ? '' : ` (band "${band}")`}: units already charged cannot be repriced` });
      break;
    }
  }
  return problems;
}

function selectorKey(rate: RateDocument): string {
  return JSON.stringify([rate.rating_group, rate.zones === undefined, rate.service_id ?? null, rate.apn ?? null, rate.qos_class ?? null, rate.device_type ?? null]);
}

/** Two rates with the same selectors (zones overlapping) would leave the choice to their order. */
function checkRatesDistinct(rates: readonly RateDocument[]): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const keys = rates.map(selectorKey);
  for (let later = 0; later < rates.length; later++) {
    for (let earlier = 0; earlier < later; earlier++) {
      if (keys[earlier] !== keys[later]) continue;
      const shared = rates[later]!.zones?.find((zone) => rates[earlier]!.zones!.includes(zone));
      if (rates[later]!.zones !== undefined && shared === undefined) continue;
      problems.push({
        path: ['rates', later],
        message: `prices the same rating group, features${shared === undefined ? '' : ` and zone "${shared}"`} as rates[${earlier}]; only one of them could ever apply`,
      });
      break;
    }
  }
  return problems;
}

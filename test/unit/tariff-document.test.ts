// The tariff format refuses a document whole and names the field of each problem.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { projectPath } from '../../src/paths.js';
import { checkTariffDocument, parseTariffDocument, TariffDocumentError } from '../../src/rating/tariff-document.js';

/** A tariff using every feature, as an operator would write it in YAML. */
function validTariff(): Record<string, any> {
  return {
    name: 'IoT Europe',
    currency: 'EUR',
    time_zone: 'Europe/Berlin',
    rounding: { mode: 'up', decimals: 4 },
    bands: [
      { name: 'night', weight: 10, from: '22:00', until: '06:00' },
      { name: 'weekend', weight: 20, days: ['sat', 'sun'] },
      { name: 'holiday', weight: 30, dates: ['2025-12-25', '2025-12-26'] },
    ],
    zones: [
      { name: 'home', networks: ['262-01', '262-02'] },
      { name: 'eu', networks: ['208', '214-01'], location_ids: ['eu'] },
      { name: 'world' },
    ],
    default_zone: 'world',
    rates: [
      {
        rating_group: 10,
        zones: ['home'],
        intervals: [{
          increment_units: 1024,
          per_units: 1_000_000_000,
          tiers: {
            mode: 'graduated',
            steps: [
              { up_to_units: 1_000_000_000, price: '1.00' },
              { up_to_units: 10_000_000_000, price: '0.50', band_prices: { night: '0.25' } },
              { price: '0.20' },
            ],
          },
        }],
      },
      {
        rating_group: 20,
        connect_fee: '0.10',
        min_charge: '0.05',
        max_charge: '5.00',
        intervals: [
          { from_units: 0, increment_units: 60, per_units: 60, price: '0.20' },
          { from_units: 60, increment_units: 1, per_units: 60, price: '0.20', band_prices: { night: '0.10' } },
        ],
      },
    ],
  };
}

function edited(edit: (tariff: Record<string, any>) => void): Record<string, any> {
  const tariff = validTariff();
  edit(tariff);
  return tariff;
}

describe('tariff format', () => {
  it('accepts a tariff with bands, zones, tiers, intervals and session limits, filling defaults', () => {
    const document = parseTariffDocument(validTariff());
    expect(document.final_unit_action).toBe('terminate');
    expect(document.rates[0]!.connect_fee).toBe('0');
    expect(document.rates[0]!.tier_scope).toBe('customer');
    expect(document.rates[0]!.intervals[0]!.from_units).toBe(0);
  });

  it('accepts the README\'s example tariff, YAML as written there', () => {
    const readme = readFileSync(projectPath('README.md'), 'utf8');
    const example = readme.slice(readme.indexOf('### Tariffs')).match(/```yaml\n([\s\S]*?)```/)![1]!;
    const checked = checkTariffDocument(parseYaml(example));
    expect(checked.ok || checked.problems).toBe(true);
  });

  it('accepts a holiday on a weekday next to an equally weighted weekend', () => {
    expect(checkTariffDocument(edited((tariff) => { tariff.bands[2].weight = 20; tariff.bands[2].dates = ['2025-12-24']; })).ok).toBe(true);
  });

  it.each([
    ['overlapping bands with equal weight', (tariff: Record<string, any>) => tariff.bands.push({ name: 'evening', weight: 10, from: '20:00', until: '23:00' }),
      'bands[3]', 'overlaps band "night" (bands[0]) with the same weight 10; give one of them a higher weight'],
    ['a holiday on a Saturday as heavy as the weekend', (tariff: Record<string, any>) => { tariff.bands[2].weight = 20; tariff.bands[2].dates = ['2025-12-27']; },
      'bands[2]', 'overlaps band "weekend" (bands[1]) with the same weight 20; give one of them a higher weight'],
    ['a band past midnight into an equally weighted morning', (tariff: Record<string, any>) => tariff.bands.push({ name: 'morning', weight: 10, days: ['tue'], from: '05:00', until: '09:00' }),
      'bands[3]', 'overlaps band "night" (bands[0]) with the same weight 10; give one of them a higher weight'],
    ['tiers out of order', (tariff: Record<string, any>) => { tariff.rates[0].intervals[0].tiers.steps[1].up_to_units = 500_000_000; },
      'rates[0].intervals[0].tiers.steps[1].up_to_units', "must be greater than the previous step's up_to_units (1000000000)"],
    ['a last tier with an upper end', (tariff: Record<string, any>) => { tariff.rates[0].intervals[0].tiers.steps[2].up_to_units = 20_000_000_000; },
      'rates[0].intervals[0].tiers.steps[2].up_to_units', 'must be left out on the last step, which has no upper end'],
    ['a middle tier without an upper end', (tariff: Record<string, any>) => { delete tariff.rates[0].intervals[0].tiers.steps[1].up_to_units; },
      'rates[0].intervals[0].tiers.steps[1].up_to_units', 'is required on every step but the last'],
    ['a volume tier dearer than the one before', (tariff: Record<string, any>) => { tariff.rates[0].intervals[0].tiers.mode = 'volume'; tariff.rates[0].intervals[0].tiers.steps[2].price = '0.60'; },
      'rates[0].intervals[0].tiers.steps[2].price', 'a volume tier may not cost more than the tier before it: units already charged cannot be repriced'],
    ['a volume tier dearer at night than the one before', (tariff: Record<string, any>) => { tariff.rates[0].intervals[0].tiers.mode = 'volume'; tariff.rates[0].intervals[0].tiers.steps[1].band_prices.night = '1.25'; },
      'rates[0].intervals[0].tiers.steps[1].band_prices.night', 'a volume tier may not cost more than the tier before it (band "night"): units already charged cannot be repriced'],
    ['a zone that maps nowhere', (tariff: Record<string, any>) => tariff.zones.push({ name: 'mars' }),
      'zones[3]', 'zone "mars" maps no location: give it networks or location_ids, or make it the default_zone'],
    ['a network in two zones', (tariff: Record<string, any>) => tariff.zones[1].networks.push('262-01'),
      'zones[1].networks[2]', '"262-01" is already in zone "home"'],
    ['a default zone that does not exist', (tariff: Record<string, any>) => { tariff.default_zone = 'moon'; },
      'default_zone', '"moon" is not a zone of this tariff'],
    ['a rate in an unknown zone', (tariff: Record<string, any>) => { tariff.rates[0].zones = ['home', 'homer']; },
      'rates[0].zones[1]', '"homer" is not a zone of this tariff'],
    ['a rate with a zero increment', (tariff: Record<string, any>) => { tariff.rates[1].intervals[0].increment_units = 0; },
      'rates[1].intervals[0].increment_units', 'must be at least 1'],
    ['a price per zero units', (tariff: Record<string, any>) => { tariff.rates[1].intervals[1].per_units = 0; },
      'rates[1].intervals[1].per_units', 'must be at least 1'],
    ['an interval that starts inside an increment', (tariff: Record<string, any>) => { tariff.rates[1].intervals[1].from_units = 90; },
      'rates[1].intervals[1].from_units', "must be a whole number of the previous interval's increments (60) after its start (0)"],
    ['intervals out of order', (tariff: Record<string, any>) => { tariff.rates[1].intervals[1].from_units = 0; },
      'rates[1].intervals[1].from_units', "must be greater than the previous interval's from_units (0)"],
    ['a first interval that does not start at 0', (tariff: Record<string, any>) => { tariff.rates[1].intervals[0].from_units = 60; tariff.rates[1].intervals[1].from_units = 120; },
      'rates[1].intervals[0].from_units', 'the first interval must start at 0'],
    ['an interval without a price', (tariff: Record<string, any>) => { delete tariff.rates[1].intervals[0].price; },
      'rates[1].intervals[0].price', 'is required unless the interval has tiers'],
    ['an interval with a price and tiers', (tariff: Record<string, any>) => { tariff.rates[0].intervals[0].price = '1'; },
      'rates[0].intervals[0].tiers', 'an interval has either a price or tiers, not both'],
    ['a price for an unknown band', (tariff: Record<string, any>) => { tariff.rates[1].intervals[1].band_prices = { nite: '0.10' }; },
      'rates[1].intervals[1].band_prices.nite', '"nite" is not a band of this tariff'],
    ['a price with 19 decimals', (tariff: Record<string, any>) => { tariff.rates[1].intervals[0].price = '0.0000000000000000001'; },
      'rates[1].intervals[0].price', 'must be a decimal string such as "0.50", at most 18 decimals'],
    ['a minimum finer than the rounding', (tariff: Record<string, any>) => { tariff.rates[1].min_charge = '0.00005'; },
      'rates[1].min_charge', 'must have at most 4 decimals, as the tariff rounds to 4'],
    ['a maximum under the minimum', (tariff: Record<string, any>) => { tariff.rates[1].max_charge = '0.01'; },
      'rates[1].max_charge', 'must be at least min_charge (0.05)'],
    ['two rates for the same rating group and zone', (tariff: Record<string, any>) => tariff.rates.push({ ...tariff.rates[0], zones: ['eu', 'home'] }),
      'rates[2]', 'prices the same rating group, features and zone "home" as rates[0]; only one of them could ever apply'],
    ['a band with days and dates', (tariff: Record<string, any>) => { tariff.bands[1].dates = ['2025-12-31']; },
      'bands[1].dates', 'a band names either days or dates, not both'],
    ['a band that ends where it starts', (tariff: Record<string, any>) => { tariff.bands[0].until = '22:00'; },
      'bands[0].until', 'must differ from from; leave both out for the whole day'],
    ['a date that does not exist', (tariff: Record<string, any>) => { tariff.bands[2].dates = ['2025-02-29']; },
      'bands[2].dates[0]', 'must be a real calendar date'],
    ['a time of day that does not exist', (tariff: Record<string, any>) => { tariff.bands[0].from = '25:00'; },
      'bands[0].from', 'must be a time "HH:MM" from 00:00 to 24:00'],
    ['a day of the week that does not exist', (tariff: Record<string, any>) => { tariff.bands[1].days = ['sat', 'sunday']; },
      'bands[1].days[1]', 'must be mon, tue, wed, thu, fri, sat or sun'],
    ['two bands with one name', (tariff: Record<string, any>) => { tariff.bands[1].name = 'night'; },
      'bands[1].name', '"night" is already the name of bands[0]'],
    ['an unknown time zone', (tariff: Record<string, any>) => { tariff.time_zone = 'Europe/Atlantis'; },
      'time_zone', 'must be an IANA time zone such as "Europe/Berlin"'],
    ['an unknown currency', (tariff: Record<string, any>) => { tariff.currency = 'EURO'; },
      'currency', 'must be an ISO 4217 code such as "EUR"'],
    ['an unknown field', (tariff: Record<string, any>) => { tariff.rates[1].intervals[0].increment = 60; },
      'rates[1].intervals[0]', 'unknown field increment'],
    ['a malformed network', (tariff: Record<string, any>) => { tariff.zones[0].networks[0] = '26201'; },
      'zones[0].networks[0]', 'must be "MCC-MNC" such as "262-01", or "MCC" such as "262"'],
  ])('rejects %s', (_name, edit, field, message) => {
    const checked = checkTariffDocument(edited(edit));
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.problems).toContainEqual({ field, message });
  });

  it('rejects the document whole, naming every problem and the first in the error', () => {
    const broken = edited((tariff) => {
      tariff.rates[1].intervals[0].increment_units = 0;
      tariff.zones.push({ name: 'mars' });
    });
    expect(() => parseTariffDocument(broken)).toThrow(TariffDocumentError);
    expect(() => parseTariffDocument(broken)).toThrow('rates[1].intervals[0].increment_units: must be at least 1');
    const checked = checkTariffDocument(edited((tariff) => {
      tariff.zones.push({ name: 'mars' });
      tariff.rates[0].zones = ['homer'];
    }));
    expect(checked.ok || checked.problems.map((problem) => problem.field)).toEqual(['zones[3]', 'rates[0].zones[0]']);
    expect(() => parseTariffDocument(edited((tariff) => { tariff.zones.push({ name: 'mars' }); tariff.rates[0].zones = ['homer']; })))
      .toThrow('zones[3]: zone "mars" maps no location: give it networks or location_ids, or make it the default_zone (and 1 more)');
  });
});

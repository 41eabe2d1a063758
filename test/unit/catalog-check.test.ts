// The catalog format refuses a catalog whole and names every problem by path and, for text, by
// line. Each case below is a small YAML catalog with one mistake; the line asserted is found by
// searching the text for the line that holds the mistake, so the cases read as they would in a file.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkCatalogText, checkCatalogValue, describeProblem } from '../../src/catalog/catalog-check.js';
import { projectPath } from '../../src/paths.js';

const FIXTURE = readFileSync(projectPath('test', 'fixtures', 'catalog', 'iot-plans.yaml'), 'utf8');

/** 1-based line of the first line containing `marker`. */
function lineOf(text: string, marker: string, occurrence = 1): number {
  const lines = text.split('\n');
  let seen = 0;
  const index = lines.findIndex((line) => line.includes(marker) && ++seen === occurrence);
  if (index < 0) throw new Error(`no line contains ${marker}`);
  return index + 1;
}

function problemsOf(text: string) {
  const checked = checkCatalogText(text);
  if (checked.ok) throw new Error('the catalog was accepted');
  return checked.problems;
}

/** A small valid catalog; `patch` replaces whole lines by marker. */
function catalog(patch: Record<string, string> = {}): string {
  const base = `rating_groups:
  - { id: 1, name: data, unit: bytes }
tariffs:
  - id: data-eur
    name: Data
    currency: EUR
    bands:
      - { name: night, weight: 10, from: "22:00", until: "06:00" }
      - { name: evening, weight: 5, from: "18:00", until: "23:00" }
    zones:
      - { name: home, networks: ["262-01"] }
    rates:
      - rating_group: 1
        intervals:
          - increment_units: 1000
            per_units: 1000000000
            tiers:
              mode: graduated
              steps:
                - { up_to_units: 1000000000, price: "1.00" }
                - { up_to_units: 10000000000, price: "0.50" }
                - { price: "0.20" }
  - id: data-usd
    name: Data in dollars
    currency: USD
    rates:
      - { rating_group: 1, intervals: [{ increment_units: 1, price: "0.000000001" }] }
plans:
  - id: fleet
    name: Fleet
    currency: EUR
    versions:
      - effective_from: "2026-01-01T00:00:00Z"
        tariff: data-eur
        allowances:
          - { name: device-data, rating_group: 1, units: 500000000, scope: device, period: month }
        fees:
          - { name: access, per: device, period: month, amount: "1.50" }
      - effective_from: "2027-01-01T00:00:00Z"
        tariff: data-eur
`;
  let text = base;
  for (const [marker, replacement] of Object.entries(patch)) {
    const lines = text.split('\n');
    const index = lines.findIndex((line) => line.includes(marker));
    if (index < 0) throw new Error(`no line contains ${marker}`);
    lines[index] = replacement;
    text = lines.join('\n');
  }
  return text;
}

describe('a valid catalog', () => {
  it('parses the example with defaults filled in and effective_from in UTC', () => {
    const checked = checkCatalogText(FIXTURE);
    expect(checked.ok, JSON.stringify(!checked.ok && checked.problems)).toBe(true);
    if (!checked.ok) return;
    expect(checked.catalog.rating_groups.map((group) => group.id)).toEqual([1, 2]);
    expect(checked.catalog.tariffs.map((tariff) => tariff.id)).toEqual(['iot-eu']);
    const [first, second] = checked.catalog.plans[0]!.versions;
    expect(first!.effective_from).toBe('2025-12-31T23:00:00Z');
    expect(second!.effective_from).toBe('2026-12-31T23:00:00Z');
    expect(first!.allowances[1]).toEqual({
      name: 'fleet-data', rating_group: 1, units: 100_000_000_000, scope: 'customer', period: 'month', priority: 5, validity_periods: 1, rollover_max_units: 0,
    });
    expect(first!.fees).toEqual([{ name: 'device-access', per: 'device', period: 'month', amount: '1.50', prorate: true }]);
    expect(checked.catalog.tariffs[0]!.rounding).toEqual({ mode: 'half-even', decimals: 6 });
  });

  it('is what the README shows', () => {
    const readme = readFileSync(projectPath('README.md'), 'utf8');
    const example = readme.slice(readme.indexOf('## Catalog')).match(/```yaml\n([\s\S]*?)```/)![1]!;
    expect(example).toBe(FIXTURE);
  });

  it('takes the small catalog as written', () => {
    expect(checkCatalogText(catalog()).ok).toBe(true);
  });

  it('reads the same catalog from JSON text and from a parsed value', () => {
    const yaml = checkCatalogText(FIXTURE);
    if (!yaml.ok) throw new Error('fixture refused');
    const json = JSON.stringify(yaml.catalog, null, 2);
    const fromText = checkCatalogText(json);
    const fromValue = checkCatalogValue(JSON.parse(json));
    expect(fromText.ok && fromText.catalog).toEqual(yaml.catalog);
    expect(fromValue.ok && fromValue.catalog).toEqual(yaml.catalog);
  });

  it('reads an unquoted effective_from as text, as YAML 1.2 has no timestamp type', () => {
    const checked = checkCatalogText(catalog({ '"2026-01-01T00:00:00Z"': '      - effective_from: 2026-01-01T01:00:00+01:00' }));
    expect(checked.ok && checked.catalog.plans[0]!.versions[0]!.effective_from).toBe('2026-01-01T00:00:00Z');
  });

  it('takes an empty catalog', () => {
    expect(checkCatalogText('{}')).toMatchObject({ ok: true, catalog: { rating_groups: [], tariffs: [], plans: [] } });
  });
});

describe('invalid catalogs are refused whole, each problem named by path and line', () => {
  it.each([
    ['a plan version on an unknown tariff', { 'tariff: data-eur': '        tariff: data-gbp' }, 'tariff: data-gbp',
      'plans[0].versions[0].tariff', 'unknown tariff "data-gbp": declare it in tariffs'],
    ['versions out of time order', { '"2027-01-01T00:00:00Z"': '      - effective_from: "2025-06-01T00:00:00+02:00"' }, '2025-06-01',
      'plans[0].versions[1].effective_from', 'must be later than the previous version\'s (2026-01-01T00:00:00Z): versions are listed in time order'],
    ['a plan currency other than its tariff\'s', { 'tariff: data-eur': '        tariff: data-usd' }, 'tariff: data-usd',
      'plans[0].versions[0].tariff', 'tariff "data-usd" is in USD, the plan in EUR'],
    ['an allowance on an unknown rating group', { 'name: device-data': '          - { name: device-data, rating_group: 7, units: 500000000, scope: device, period: month }' }, 'rating_group: 7',
      'plans[0].versions[0].allowances[0].rating_group', 'unknown rating group 7: declare it in rating_groups'],
    ['a tariff rate on an undeclared rating group', { '- rating_group: 1': '      - rating_group: 3' }, 'rating_group: 3',
      'tariffs[0].rates[0].rating_group', 'unknown rating group 3: declare it in rating_groups'],
    ['a zero increment (tariff format)', { 'increment_units: 1000': '          - increment_units: 0' }, 'increment_units: 0',
      'tariffs[0].rates[0].intervals[0].increment_units', 'must be at least 1'],
    ['overlapping bands of equal weight (tariff format)', { 'name: evening': '      - { name: evening, weight: 10, from: "18:00", until: "23:00" }' }, 'name: evening',
      'tariffs[0].bands[1]', 'overlaps band "night" (bands[0]) with the same weight 10; give one of them a higher weight'],
    ['tiers out of order (tariff format)', { 'up_to_units: 10000000000': '                - { up_to_units: 900000000, price: "0.50" }' }, 'up_to_units: 900000000',
      'tariffs[0].rates[0].intervals[0].tiers.steps[1].up_to_units', 'must be greater than the previous step\'s up_to_units (1000000000)'],
    ['a zone that maps nowhere (tariff format)', { 'name: home': '      - { name: home }' }, 'name: home',
      'tariffs[0].zones[0]', 'zone "home" maps no location: give it networks or location_ids, or make it the default_zone'],
    ['a fee amount with 7 decimals', { 'name: access': '          - { name: access, per: device, period: month, amount: "1.5000001" }' }, 'name: access',
      'plans[0].versions[0].fees[0].amount', 'must be a decimal string of 0 or more with at most 6 decimals, such as "1.50"'],
    ['a fee amount written as a number', { 'name: access': '          - { name: access, per: device, period: month, amount: 1.5 }' }, 'name: access',
      'plans[0].versions[0].fees[0].amount', 'Invalid input: expected string, received number'],
    ['an allowance period of a year', { 'name: device-data': '          - { name: device-data, rating_group: 1, units: 5, scope: device, period: year }' }, 'name: device-data',
      'plans[0].versions[0].allowances[0].period', 'must be day, week or month'],
    ['an effective_from that is not RFC 3339', { '"2026-01-01T00:00:00Z"': '      - effective_from: 2026-01-01' }, 'effective_from: 2026-01-01',
      'plans[0].versions[0].effective_from', 'must be an RFC 3339 timestamp such as "2026-11-23T10:00:00Z"'],
    ['an unknown field', { 'name: Fleet': '    name: Fleet\n    colour: blue' }, 'colour: blue', 'plans[0].colour', 'unknown field colour'],
    ['a duplicate tariff id', { 'id: data-usd': '  - id: data-eur # again' }, 'again', 'tariffs[1].id', '"data-eur" is already the id of tariffs[0]'],
  ])('%s', (_name, patch, marker, field, message) => {
    const text = catalog(patch);
    expect(problemsOf(text)).toEqual([{ field, message, line: lineOf(text, marker) }]);
  });

  it('names every problem, in line order, and does not blame a reference on a broken entry', () => {
    const text = catalog({
      'increment_units: 1000': '          - increment_units: 0',
      'tariff: data-eur': '        tariff: data-gbp',
      '"2027-01-01T00:00:00Z"': '      - effective_from: "2027-01-01T00:00:00Z"\n        allowances: [{ name: extra, rating_group: 9, units: 0, scope: device, period: month }]',
    });
    expect(problemsOf(text).map(describeProblem)).toEqual([
      `tariffs[0].rates[0].intervals[0].increment_units: must be at least 1 (line ${lineOf(text, 'increment_units: 0')})`,
      `plans[0].versions[0].tariff: unknown tariff "data-gbp": declare it in tariffs (line ${lineOf(text, 'data-gbp')})`,
      `plans[0].versions[1].allowances[0].units: must be 1 to 2^53-1 (line ${lineOf(text, 'rating_group: 9')})`,
    ]);
    // Both versions are broken, but each is checked on its own, so the first still gets its
    // unknown tariff. The second names data-eur, whose own problem is not reported again.
  });

  it('names the line of a YAML syntax error and of a duplicate key', () => {
    expect(problemsOf('rating_groups:\n  - id: 1\n    id: 2\n')).toEqual([{ field: 'catalog', line: 3, message: 'Map keys must be unique' }]);
    expect(problemsOf('plans: [\n')[0]).toMatchObject({ field: 'catalog', line: 2 });
  });

  it('names a JSON file\'s lines too', () => {
    const json = '{\n  "rating_groups": [\n    { "id": 1, "name": "data", "unit": "bits" }\n  ]\n}\n';
    expect(problemsOf(json)).toEqual([{ field: 'rating_groups[0].unit', line: 3, message: 'must be bytes, seconds or events' }]);
  });

  it.each([
    ['a list', '- 1\n', 'must be a catalog: a mapping with rating_groups, tariffs and plans'],
    ['an unknown section', 'products: []\n', 'unknown field products'],
  ])('refuses %s at the top', (_name, text, message) => {
    expect(problemsOf(text)[0]).toMatchObject({ message, line: 1 });
  });

  it('refuses a YAML alias bomb instead of expanding it', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, index) =>
      `${String.fromCharCode(98 + index)}: &${String.fromCharCode(98 + index)} [${Array(10).fill(`*${String.fromCharCode(97 + index)}`).join(', ')}]`)].join('\n');
    expect(problemsOf(bomb)[0]).toMatchObject({ field: 'catalog' });
  });

  it('names paths without lines for a parsed value', () => {
    const checked = checkCatalogValue({ plans: [{ id: 'p', name: 'P', currency: 'EUR', versions: [] }] });
    expect(checked).toEqual({ ok: false, problems: [{ field: 'plans[0].versions', message: 'must have at least one version' }] });
  });
});

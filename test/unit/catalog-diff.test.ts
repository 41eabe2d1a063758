// The versioning rules of an apply, without a database: what is created, changed, kept or
// withdrawn, and which changes are refused, given what is stored and the time now.
import { describe, expect, it } from 'vitest';
import type { CatalogDocument, PlanVersionDocument } from '../../src/catalog/catalog-document.js';
import { diffCatalog, sameJson, type StoredCatalog, type StoredVersion } from '../../src/catalog/catalog-diff.js';
import type { TariffDocument } from '../../src/rating/tariff-document.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');
const PAST = '2026-01-01T00:00:00Z';
const FUTURE = '2027-01-01T00:00:00Z';

const tariff = (price: string, currency = 'EUR'): TariffDocument => ({
  name: 'Data', currency, time_zone: 'UTC', rounding: { mode: 'up', decimals: 6 }, final_unit_action: 'terminate',
  rates: [{ rating_group: 1, connect_fee: '0', tier_scope: 'customer', intervals: [{ from_units: 0, increment_units: 1, per_units: 1, price }] }],
});
const version = (effectiveFrom: string, fee = '1.00'): PlanVersionDocument => ({
  effective_from: effectiveFrom, tariff: 'data', allowances: [], fees: [{ name: 'access', per: 'device', period: 'month', amount: fee, prorate: true }],
});
const stored = (effectiveFrom: string, fee = '1.00', price = '0.10', tariffVersion = 1): StoredVersion => ({
  ...version(effectiveFrom, fee), tariff_version: tariffVersion, tariff_document: tariff(price),
});

function catalog(versions: PlanVersionDocument[], price = '0.10', currency = 'EUR'): CatalogDocument {
  return {
    rating_groups: [{ id: 1, name: 'data', unit: 'bytes' }],
    tariffs: [{ id: 'data', ...tariff(price, currency) }],
    plans: [{ id: 'fleet', name: 'Fleet', currency, versions }],
  };
}

function store(versions: StoredVersion[], options: { subscribed?: boolean; uses?: StoredCatalog['tariffUses'] } = {}): StoredCatalog {
  return {
    ratingGroups: new Map([[1, { id: 1, name: 'data', unit: 'bytes' }]]),
    tariffs: new Map([['data', { id: 'data', document: tariff('0.10'), version: 1 }]]),
    plans: new Map([['fleet', { id: 'fleet', name: 'Fleet', currency: 'EUR', subscribed: options.subscribed ?? false, versions }]]),
    tariffUses: options.uses ?? versions.map((each) => ({ plan_id: 'fleet', effective_from: each.effective_from, tariff: 'data' })),
  };
}

const empty: StoredCatalog = { ratingGroups: new Map(), tariffs: new Map(), plans: new Map(), tariffUses: [] };
const changes = (diff: ReturnType<typeof diffCatalog>) => diff.plans[0]!.versions.map(({ change, version: { effective_from: at } }) => `${at} ${change}`);

describe('diffCatalog', () => {
  it('creates a new plan, even with a version already in effect: nothing was priced by it before', () => {
    const diff = diffCatalog(empty, catalog([version(PAST), version(FUTURE)]), NOW);
    expect(diff.conflicts).toEqual([]);
    expect(changes(diff)).toEqual([`${PAST} created`, `${FUTURE} created`]);
    expect(diff.plans[0]!.versions[0]!.version).toMatchObject({ tariff_version: 1, tariff_document: tariff('0.10') });
  });

  it('takes a version in the past for a plan whose versions are all still to come', () => {
    const diff = diffCatalog(store([stored(FUTURE)]), catalog([version(PAST), version(FUTURE)]), NOW);
    expect(diff.conflicts).toEqual([]);
    expect(changes(diff)).toEqual([`${PAST} created`, `${FUTURE} unchanged`]);
  });

  it('keeps a version in effect that the catalog leaves out, and withdraws one to come', () => {
    const diff = diffCatalog(store([stored(PAST), stored(FUTURE)]), catalog([version('2027-06-01T00:00:00Z')]), NOW);
    expect(diff.conflicts).toEqual([]);
    expect(changes(diff)).toEqual(['2027-06-01T00:00:00Z created', `${FUTURE} removed`]);
  });

  it('refuses to change a version in effect, and lets one to come change', () => {
    const diff = diffCatalog(store([stored(PAST), stored(FUTURE)]), catalog([version(PAST, '2.00'), version(FUTURE, '2.00')]), NOW);
    expect(diff.conflicts.map((conflict) => conflict.path)).toEqual([['plans', 0, 'versions', 0]]);
    expect(changes(diff)).toEqual([`${PAST} changed`, `${FUTURE} changed`]);
  });

  it('rewrites versions to come with a changed tariff, and leaves those in effect on their snapshot', () => {
    const diff = diffCatalog(store([stored(PAST), stored(FUTURE)]), catalog([version(PAST), version(FUTURE)], '0.20'), NOW);
    expect(diff.conflicts).toEqual([]);
    expect(diff.tariffs).toEqual([{ change: 'changed', tariff: { id: 'data', document: tariff('0.20'), version: 2 } }]);
    expect(changes(diff)).toEqual([`${PAST} unchanged`, `${FUTURE} changed`]);
    expect(diff.plans[0]!.versions.map(({ version: each }) => [each.tariff_version, each.tariff_document.rates[0]!.intervals[0]!.price])).toEqual([[1, '0.10'], [2, '0.20']]);
  });

  it('lets an unused tariff change its currency, but not a used one', () => {
    const unused = { ...catalog([]), plans: [] };
    unused.tariffs[0]!.currency = 'USD';
    expect(diffCatalog(store([], { uses: [] }), unused, NOW).conflicts).toEqual([]);
    expect(diffCatalog(store([stored(PAST)]), unused, NOW).conflicts.map((conflict) => conflict.path)).toEqual([['tariffs', 0, 'currency']]);
  });

  it('refuses a new currency for a plan with subscribers, though no version is in effect yet', () => {
    const diff = diffCatalog(store([stored(FUTURE)], { subscribed: true, uses: [] }), catalog([version(FUTURE)], '0.10', 'USD'), NOW);
    expect(diff.conflicts.map((conflict) => conflict.path)).toEqual([['plans', 0, 'currency']]);
  });

  it('compares documents whatever the order of their keys, which jsonb does not keep, but not of their lists', () => {
    expect(sameJson({ name: 'Data', rounding: { mode: 'up', decimals: 6 } }, { rounding: { decimals: 6, mode: 'up' }, name: 'Data' })).toBe(true);
    expect(sameJson({ days: ['mon', 'tue'] }, { days: ['tue', 'mon'] })).toBe(false);
  });
});

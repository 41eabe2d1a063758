// The catalog's rows in PostgreSQL: what an apply compares against, how a diff is written (one
// statement per table, rows passed as one JSON array), and what export reads back.
import type pg from 'pg';
import type { PlanProjection } from '../balance/directory.js';
import type { TariffDocument } from '../rating/tariff-document.js';
import { CATALOG_LIMITS, formatInstant, type AllowanceDocument, type CatalogDocument, type FeeDocument, type PlanDocument, type RatingGroupDocument } from './catalog-document.js';
import type { CatalogDiff, StoredCatalog, StoredPlan, StoredTariff, StoredVersion, TariffUse } from './catalog-diff.js';

/** Enough to find, for each tariff, a use and the uses not yet in effect, which come first. */
const TARIFF_USES_MAX = 10_000;

interface VersionRow {
  plan_id: string;
  effective_from: Date;
  tariff_id: string;
  tariff_version: number;
  tariff_document: TariffDocument;
  allowances: AllowanceDocument[];
  fees: FeeDocument[];
}

export async function loadStoredCatalog(client: pg.PoolClient, catalog: CatalogDocument): Promise<StoredCatalog> {
  const tariffIds = catalog.tariffs.map((tariff) => tariff.id);
  const planIds = catalog.plans.map((plan) => plan.id);
  // One after another: node-postgres deprecates queueing queries on one client.
  const ratingGroups = await client.query<RatingGroupDocument>(
    'SELECT id, name, unit FROM rating_groups WHERE id = ANY($1::integer[])', [catalog.rating_groups.map((group) => group.id)]);
  const tariffs = await client.query<StoredTariff>('SELECT id, document, version FROM catalog_tariffs WHERE id = ANY($1::text[])', [tariffIds]);
  const plans = await client.query<Omit<StoredPlan, 'versions'>>(
    `SELECT id, name, currency, EXISTS (SELECT 1 FROM subscriptions WHERE plan_id = plans.id) AS subscribed
     FROM plans WHERE id = ANY($1::text[])`, [planIds]);
  const versions = await client.query<VersionRow>('SELECT * FROM plan_versions WHERE plan_id = ANY($1::text[]) ORDER BY plan_id, effective_from', [planIds]);
  const uses = await client.query<{ plan_id: string; effective_from: Date; tariff_id: string }>(
    'SELECT plan_id, effective_from, tariff_id FROM plan_versions WHERE tariff_id = ANY($1::text[]) ORDER BY effective_from DESC LIMIT $2',
    [tariffIds, TARIFF_USES_MAX]);
  const versionsOf = groupBy(versions.rows.map(storedVersion), versions.rows.map((row) => row.plan_id));
  return {
    ratingGroups: new Map(ratingGroups.rows.map((row) => [row.id, row])),
    tariffs: new Map(tariffs.rows.map((row) => [row.id, row])),
    plans: new Map(plans.rows.map((row) => [row.id, { ...row, versions: versionsOf.get(row.id) ?? [] }])),
    tariffUses: uses.rows.map((row): TariffUse => ({ plan_id: row.plan_id, effective_from: formatInstant(row.effective_from.getTime()), tariff: row.tariff_id })),
  };
}

export async function writeCatalogDiff(client: pg.PoolClient, diff: CatalogDiff): Promise<void> {
  const touched = <Item extends { change: string }>(items: Item[]) => items.filter((item) => item.change === 'created' || item.change === 'changed');
  await client.query(
    `INSERT INTO rating_groups (id, name, unit) SELECT id, name, unit FROM jsonb_to_recordset($1::jsonb) AS r(id integer, name text, unit text)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, unit = excluded.unit, updated_at = now()`,
    [JSON.stringify(touched(diff.ratingGroups).map((item) => item.ratingGroup))]);
  await client.query(
    `INSERT INTO catalog_tariffs (id, currency, document, version)
     SELECT id, document->>'currency', document, version FROM jsonb_to_recordset($1::jsonb) AS r(id text, document jsonb, version integer)
     ON CONFLICT (id) DO UPDATE SET currency = excluded.currency, document = excluded.document, version = excluded.version, updated_at = now()`,
    [JSON.stringify(touched(diff.tariffs).map((item) => item.tariff))]);
  await client.query(
    `INSERT INTO plans (id, name, currency) SELECT id, name, currency FROM jsonb_to_recordset($1::jsonb) AS r(id text, name text, currency text)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, currency = excluded.currency, updated_at = now()`,
    [JSON.stringify(touched(diff.plans).map(({ plan }) => ({ id: plan.id, name: plan.name, currency: plan.currency })))]);
  await writeVersions(client, diff);
}

/** Versions are never updated (a trigger refuses it): a changed one is deleted and written again. */
async function writeVersions(client: pg.PoolClient, diff: CatalogDiff): Promise<void> {
  const rows = diff.plans.flatMap(({ plan, versions }) => versions.map(({ change, version }) => ({ change, row: versionRow(plan.id, version) })));
  const gone = rows.filter(({ change }) => change === 'changed' || change === 'removed').map(({ row }) => row);
  const written = rows.filter(({ change }) => change === 'changed' || change === 'created').map(({ row }) => row);
  await client.query(
    `DELETE FROM plan_versions v USING jsonb_to_recordset($1::jsonb) AS r(plan_id text, effective_from timestamptz)
     WHERE v.plan_id = r.plan_id AND v.effective_from = r.effective_from`, [JSON.stringify(gone)]);
  await client.query(
    `INSERT INTO plan_versions (plan_id, effective_from, tariff_id, tariff_version, tariff_document, allowances, fees)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(plan_id text, effective_from timestamptz, tariff_id text, tariff_version integer,
       tariff_document jsonb, allowances jsonb, fees jsonb)`, [JSON.stringify(written)]);
}

function versionRow(planId: string, version: StoredVersion) {
  return {
    plan_id: planId, effective_from: version.effective_from, tariff_id: version.tariff, tariff_version: version.tariff_version,
    tariff_document: version.tariff_document, allowances: version.allowances, fees: version.fees,
  };
}

function storedVersion(row: VersionRow): StoredVersion {
  return {
    effective_from: formatInstant(row.effective_from.getTime()), tariff: row.tariff_id, allowances: row.allowances, fees: row.fees,
    tariff_version: row.tariff_version, tariff_document: row.tariff_document,
  };
}

function groupBy<Item>(items: Item[], keys: string[]): Map<string, Item[]> {
  const groups = new Map<string, Item[]>();
  items.forEach((item, index) => {
    const group = groups.get(keys[index]!) ?? [];
    group.push(item);
    groups.set(keys[index]!, group);
  });
  return groups;
}

export interface ExportedCatalog {
  /** Plans hold the version in effect now and those to come; earlier ones stay in PostgreSQL. */
  catalog: CatalogDocument;
  /** Versions priced by an earlier version of their tariff than the one exported. */
  olderSnapshots: { planIndex: number; versionIndex: number; tariffVersion: number }[];
}

export async function loadCatalogExport(pool: pg.Pool, nowMs: number): Promise<ExportedCatalog> {
  const now = new Date(nowMs);
  const [ratingGroups, tariffs, plans, versions] = await Promise.all([
    pool.query<RatingGroupDocument>('SELECT id, name, unit FROM rating_groups ORDER BY id LIMIT $1', [CATALOG_LIMITS.ratingGroupsMax]),
    pool.query<StoredTariff>('SELECT id, document, version FROM catalog_tariffs ORDER BY id LIMIT $1', [CATALOG_LIMITS.tariffsMax]),
    pool.query<Omit<PlanDocument, 'versions'>>('SELECT id, name, currency FROM plans ORDER BY id LIMIT $1', [CATALOG_LIMITS.plansMax]),
    pool.query<VersionRow>(
      `SELECT * FROM plan_versions v
       WHERE v.effective_from > $1
          OR v.effective_from = (SELECT max(effective_from) FROM plan_versions w WHERE w.plan_id = v.plan_id AND w.effective_from <= $1)
       ORDER BY plan_id, effective_from`, [now]),
  ]);
  const tariffVersions = new Map(tariffs.rows.map((row) => [row.id, row.version]));
  const versionsOf = groupBy(versions.rows.map(storedVersion), versions.rows.map((row) => row.plan_id));
  const olderSnapshots: ExportedCatalog['olderSnapshots'] = [];
  const exportedPlans = plans.rows.map((plan, planIndex): PlanDocument => ({
    ...plan,
    versions: (versionsOf.get(plan.id) ?? []).map(({ tariff_version: tariffVersion, tariff_document: _snapshot, ...version }, versionIndex) => {
      if (tariffVersion !== tariffVersions.get(version.tariff)) olderSnapshots.push({ planIndex, versionIndex, tariffVersion });
      return version;
    }),
  }));
  return {
    catalog: {
      rating_groups: ratingGroups.rows,
      tariffs: tariffs.rows.map((row) => ({ id: row.id, ...row.document })),
      plans: exportedPlans,
    },
    olderSnapshots,
  };
}

/** A plan's versions the online path keeps at most: the newest, scheduled ones included. */
const PLAN_VERSIONS_PROJECTED_MAX = 64;

/** Plans as the online path reads them from Redis; every plan when `planIds` is undefined. */
export async function loadPlanProjections(pool: pg.Pool, planIds?: readonly string[]): Promise<PlanProjection[]> {
  const filter = planIds === undefined ? '' : 'WHERE id = ANY($2)';
  const parameters: unknown[] = [CATALOG_LIMITS.plansMax, ...(planIds === undefined ? [] : [planIds])];
  const plans = await pool.query<{ id: string; currency: string }>(`SELECT id, currency FROM plans ${filter} ORDER BY id LIMIT $1`, parameters);
  const versions = await pool.query<VersionRow>(
    `SELECT * FROM (
       SELECT *, row_number() OVER (PARTITION BY plan_id ORDER BY effective_from DESC) AS newest
       FROM plan_versions WHERE plan_id = ANY($1)
     ) v WHERE newest <= $2 ORDER BY plan_id, effective_from`,
    [plans.rows.map((plan) => plan.id), PLAN_VERSIONS_PROJECTED_MAX],
  );
  const versionsOf = groupBy(versions.rows, versions.rows.map((row) => row.plan_id));
  return plans.rows.map((plan) => ({
    id: plan.id,
    currency: plan.currency,
    versions: (versionsOf.get(plan.id) ?? []).map((row) => ({
      effectiveFromMs: row.effective_from.getTime(), tariffId: row.tariff_id, tariffVersion: row.tariff_version, tariffDocument: row.tariff_document,
    })),
  }));
}

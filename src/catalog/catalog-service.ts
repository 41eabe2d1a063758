// Pricing as code: a whole catalog is checked, compared with what PostgreSQL holds, and written
// in one transaction, or refused whole with every problem named. A dry run does the same in a
// READ ONLY transaction and reports what would change. Applying the same catalog again changes
// nothing and reports everything unchanged.
import type pg from 'pg';
import type { Projection } from '../balance/projection.js';
import type { Clock } from '../clock.js';
import { inTransaction } from '../db/database.js';
import { AppError, type ErrorCode, type Problem } from '../errors.js';
import { checkCatalogText, checkCatalogValue, toProblems, type CatalogCheck } from './catalog-check.js';
import type { CatalogDocument } from './catalog-document.js';
import { diffCatalog, type CatalogDiff, type Change } from './catalog-diff.js';
import { loadCatalogExport, loadPlanProjections, loadStoredCatalog, writeCatalogDiff, type ExportedCatalog } from './catalog-store.js';
import { markForProjection, projectMarked } from '../provisioning/pending-projections.js';

/** Applies wait for each other, so two of them never compare against the same stored state. */
const CATALOG_LOCK_ID = 7_433_002;

/** A catalog as YAML (or JSON) text, which lets problems name lines, or as a parsed value. */
export type CatalogInput = { text: string } | { value: unknown };

export interface ApplyReport {
  dry_run: boolean;
  rating_groups: { id: number; change: Change }[];
  tariffs: { id: string; change: Change; version: number }[];
  plans: { id: string; change: Change; versions: { effective_from: string; change: Change }[] }[];
  counts: Record<Change, number>;
}

export class CatalogService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly projection: Projection,
    private readonly clock: Clock,
  ) {}

  async apply(input: CatalogInput, options: { dryRun: boolean }): Promise<ApplyReport> {
    const checked: CatalogCheck = 'text' in input ? checkCatalogText(input.text) : checkCatalogValue(input.value);
    if (!checked.ok) throw refused('INVALID_ARGUMENT', checked.problems);
    const nowMs = this.clock.nowMs();
    const { diff, marks } = await inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [CATALOG_LOCK_ID]);
      const found = diffCatalog(await loadStoredCatalog(client, checked.catalog), checked.catalog, nowMs);
      if (found.conflicts.length > 0) throw refused('CONFLICT', toProblems(found.conflicts, checked.locate));
      if (options.dryRun) return { diff: found, marks: [] };
      await writeCatalogDiff(client, found);
      return { diff: found, marks: await markCatalog(client, found) };
    }, { readOnly: options.dryRun });
    // Rating groups and plans are also what the online path reads from Redis. Every one of the
    // catalog's is projected, changed or not; one left marked is projected by the repair.
    const markOf = new Map(marks.map(({ kind, id, mark }) => [`${kind}:${id}`, mark]));
    for (const { ratingGroup } of options.dryRun ? [] : diff.ratingGroups) {
      await projectMarked(this.pool, 'rating-group', ratingGroup.id, markOf.get(`rating-group:${ratingGroup.id}`)!, () => this.projection.ratingGroup(ratingGroup));
    }
    for (const { plan } of options.dryRun ? [] : diff.plans) {
      await projectMarked(this.pool, 'plan', plan.id, markOf.get(`plan:${plan.id}`)!, async () => void await this.projectPlans([plan.id]));
    }
    return report(diff, options.dryRun);
  }

  /** The projection repair's step for a plan: taken under the catalog's lock, so no apply overtakes it. */
  async reprojectPlan(client: pg.PoolClient, planId: string): Promise<void> {
    await client.query('SELECT pg_advisory_xact_lock($1)', [CATALOG_LOCK_ID]);
    await this.projectPlans([planId]);
  }

  /**
   * Writes plans, with their versions' tariff snapshots, where the online path reads them: the
   * document's plans after an apply (changed or not, which mends a failed projection), or every
   * plan when Redis is filled at a first start.
   */
  async projectPlans(planIds?: readonly string[]): Promise<number> {
    const plans = await loadPlanProjections(this.pool, planIds);
    for (const plan of plans) await this.projection.plan(plan);
    return plans.length;
  }

  async export(): Promise<ExportedCatalog> {
    const exported = await loadCatalogExport(this.pool, this.clock.nowMs());
    return { ...exported, catalog: inFormatOrder(exported.catalog) };
  }
}

/**
 * The fields in the order the format lists them, as jsonb keeps none, so an export reads like
 * the file it came from. A catalog written under older rules that no longer pass is sent as stored.
 */
function inFormatOrder(catalog: CatalogDocument): CatalogDocument {
  const checked = checkCatalogValue(catalog);
  if (!checked.ok) return catalog;
  return { ...checked.catalog, tariffs: checked.catalog.tariffs.map(({ id, ...tariff }) => ({ id, ...tariff })) };
}

/** The catalog refused whole: the message names the first problem, `problems` lists them all. */
function refused(code: ErrorCode, problems: readonly Problem[]): AppError {
  const [first] = problems as [Problem, ...Problem[]];
  const where = first.line === undefined ? '' : ` (line ${first.line})`;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new AppError(code, `${first.message}${where}${more}`, first.field, problems);
}

function report(diff: CatalogDiff, dryRun: boolean): ApplyReport {
  const counts: Record<Change, number> = { created: 0, changed: 0, unchanged: 0, removed: 0 };
  const count = <Item extends { change: Change }>(item: Item): Item => {
    counts[item.change]++;
    return item;
  };
  return {
    dry_run: dryRun,
    rating_groups: diff.ratingGroups.map(({ change, ratingGroup }) => count({ id: ratingGroup.id, change })),
    tariffs: diff.tariffs.map(({ change, tariff }) => count({ id: tariff.id, change, version: tariff.version })),
    plans: diff.plans.map(({ change, plan, versions }) => count({
      id: plan.id, change, versions: versions.map(({ change: versionChange, version }) => count({ effective_from: version.effective_from, change: versionChange })),
    })),
    counts,
  };
}

/** Marks, in the apply's transaction, every rating group and plan of the catalog for projection. */
async function markCatalog(client: pg.PoolClient, diff: CatalogDiff) {
  const marks: { kind: 'rating-group' | 'plan'; id: string; mark: string }[] = [];
  for (const { ratingGroup } of diff.ratingGroups) marks.push({ kind: 'rating-group', id: String(ratingGroup.id), mark: await markForProjection(client, 'rating-group', ratingGroup.id) });
  for (const { plan } of diff.plans) marks.push({ kind: 'plan', id: plan.id, mark: await markForProjection(client, 'plan', plan.id) });
  return marks;
}

// What applying a catalog would change, decided without I/O from what is stored and the time
// now. The rules (README "Catalog", versioning):
// - Entries are matched by id, plan versions by plan and effective_from. Apply never deletes a
//   rating group, tariff or plan; entries the document leaves out stay as they are.
// - A version takes a snapshot of its tariff when it is written, so a later tariff edit never
//   reprices a version that is in effect. A version that has not taken effect follows its tariff:
//   it is rewritten with the tariff's new document.
// - A version in effect (effective_from <= now) never changes; listing it with other contents is
//   a conflict. Leaving it out keeps it: history cannot be edited or deleted.
// - A version not yet in effect may change, and is withdrawn when the document leaves it out.
// - A new version may not start in the past of a plan that already has a version in effect: it
//   would reprice usage already charged.
import type { TariffDocument } from '../rating/tariff-document.js';
import { instantMs, type PlanDocument, type PlanVersionDocument, type RatingGroupDocument, type CatalogDocument } from './catalog-document.js';
import type { Path, PathProblem } from './catalog-references.js';

export type Change = 'created' | 'changed' | 'unchanged' | 'removed';

export interface StoredTariff {
  id: string;
  document: TariffDocument;
  /** 1, then one more for each change of the document. */
  version: number;
}

export interface StoredVersion extends PlanVersionDocument {
  tariff_version: number;
  /** The tariff as it was when this version was written: what prices usage under it. */
  tariff_document: TariffDocument;
}

export interface StoredPlan {
  id: string;
  name: string;
  currency: string;
  /** A customer or device has subscribed to it. */
  subscribed: boolean;
  versions: StoredVersion[];
}

/** A plan version that uses one of the document's tariffs, whichever plan it belongs to. */
export interface TariffUse {
  plan_id: string;
  effective_from: string;
  tariff: string;
}

export interface StoredCatalog {
  ratingGroups: ReadonlyMap<number, RatingGroupDocument>;
  tariffs: ReadonlyMap<string, StoredTariff>;
  plans: ReadonlyMap<string, StoredPlan>;
  tariffUses: readonly TariffUse[];
}

export interface VersionDiff {
  change: Change;
  /** What is stored after the apply; for `removed`, what was. */
  version: StoredVersion;
}

export interface PlanDiff {
  change: Change;
  plan: PlanDocument;
  versions: VersionDiff[];
}

export interface CatalogDiff {
  ratingGroups: { change: Change; ratingGroup: RatingGroupDocument }[];
  tariffs: { change: Change; tariff: StoredTariff }[];
  plans: PlanDiff[];
  /** Changes the rules refuse; the apply is refused whole when there is any. */
  conflicts: PathProblem[];
}

export function diffCatalog(stored: StoredCatalog, catalog: CatalogDocument, nowMs: number): CatalogDiff {
  const tariffs = catalog.tariffs.map((tariff) => diffTariff(stored.tariffs.get(tariff.id), tariff));
  const tariffsNow = new Map(tariffs.map(({ tariff }) => [tariff.id, tariff]));
  const plans = catalog.plans.map((plan, index) => diffPlan(stored.plans.get(plan.id), plan, index, tariffsNow, nowMs));
  const listedPlans = new Set(catalog.plans.map((plan) => plan.id));
  return {
    ratingGroups: catalog.rating_groups.map((ratingGroup) => ({ change: changeOf(stored.ratingGroups.get(ratingGroup.id), ratingGroup), ratingGroup })),
    tariffs,
    plans: plans.map(({ diff }) => diff),
    conflicts: [
      ...catalog.tariffs.flatMap((tariff, index) => tariffConflicts(stored, tariff, index, tariffs[index]!.change, listedPlans, nowMs)),
      ...plans.flatMap(({ conflicts }) => conflicts),
    ],
  };
}

/** Equal as JSON whatever the order of keys, which jsonb does not keep. */
export function sameJson(first: unknown, second: unknown): boolean {
  return canonicalJson(first) === canonicalJson(second);
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (item !== null && typeof item === 'object' && !Array.isArray(item)
    ? Object.fromEntries(Object.entries(item).sort(([first], [second]) => (first < second ? -1 : first > second ? 1 : 0)))
    : item));
}

function changeOf(before: unknown, after: unknown): Change {
  if (before === undefined) return 'created';
  return sameJson(before, after) ? 'unchanged' : 'changed';
}

function diffTariff(before: StoredTariff | undefined, tariff: CatalogTariffInput): { change: Change; tariff: StoredTariff } {
  const { id, ...document } = tariff;
  const change = changeOf(before?.document, document);
  const version = before === undefined ? 1 : before.version + (change === 'changed' ? 1 : 0);
  return { change, tariff: { id, document: change === 'unchanged' ? before!.document : document, version } };
}

type CatalogTariffInput = CatalogDocument['tariffs'][number];

function tariffConflicts(stored: StoredCatalog, tariff: CatalogTariffInput, index: number, change: Change, listedPlans: ReadonlySet<string>, nowMs: number): PathProblem[] {
  if (change !== 'changed') return [];
  const uses = stored.tariffUses.filter((use) => use.tariff === tariff.id);
  const before = stored.tariffs.get(tariff.id)!;
  if (before.document.currency !== tariff.currency && uses.length > 0) {
    return [{
      path: ['tariffs', index, 'currency'],
      message: `tariff "${tariff.id}" is used by plan "${uses[0]!.plan_id}" (version ${uses[0]!.effective_from}), so its currency cannot change: give the tariff in ${tariff.currency} a new id`,
    }];
  }
  // A version not yet in effect takes the tariff's new document, which needs its plan listed.
  return uses.filter((use) => !listedPlans.has(use.plan_id) && instantMs(use.effective_from) > nowMs).slice(0, 1).map((use) => ({
    path: ['tariffs', index],
    message: `changes the tariff of plan "${use.plan_id}" version ${use.effective_from}, which has not taken effect: list plan "${use.plan_id}" in this catalog too, so that version is rewritten with it`,
  }));
}

interface PlanOutcome {
  diff: PlanDiff;
  conflicts: PathProblem[];
}

function diffPlan(before: StoredPlan | undefined, plan: PlanDocument, index: number, tariffs: ReadonlyMap<string, StoredTariff>, nowMs: number): PlanOutcome {
  const storedVersions = before?.versions ?? [];
  const inEffect = storedVersions.filter((version) => instantMs(version.effective_from) <= nowMs);
  const conflicts: PathProblem[] = [];
  if (before !== undefined && before.currency !== plan.currency && (inEffect.length > 0 || before.subscribed)) {
    conflicts.push({ path: ['plans', index, 'currency'], message: `plan "${plan.id}" is in ${before.currency} and ${before.subscribed ? 'has subscribers' : 'has a version in effect'}; its currency cannot change` });
  }
  const byStart = new Map(storedVersions.map((version) => [version.effective_from, version]));
  const versions = plan.versions.map((version, position): VersionDiff => {
    const tariff = tariffs.get(version.tariff)!;
    const written: StoredVersion = { ...version, tariff_version: tariff.version, tariff_document: tariff.document };
    const at = (...path: Path): Path => ['plans', index, 'versions', position, ...path];
    const outcome = diffVersion(plan, byStart.get(version.effective_from), written, inEffect.at(-1), nowMs, at);
    if (outcome.conflict !== undefined) conflicts.push(outcome.conflict);
    return { change: outcome.change, version: outcome.version };
  });
  const listed = new Set(plan.versions.map((version) => version.effective_from));
  const withdrawn = storedVersions.filter((version) => !listed.has(version.effective_from) && instantMs(version.effective_from) > nowMs);
  const planChange = before === undefined ? 'created' : before.name === plan.name && before.currency === plan.currency ? 'unchanged' : 'changed';
  return {
    diff: { change: planChange, plan, versions: [...versions, ...withdrawn.map((version) => ({ change: 'removed' as const, version }))] },
    conflicts,
  };
}

function diffVersion(
  plan: PlanDocument, before: StoredVersion | undefined, written: StoredVersion, latestInEffect: StoredVersion | undefined, nowMs: number, at: (...path: Path) => Path,
): { change: Change; version: StoredVersion; conflict?: PathProblem } {
  const startsMs = instantMs(written.effective_from);
  if (before === undefined) {
    if (startsMs > nowMs || latestInEffect === undefined) return { change: 'created', version: written };
    return {
      change: 'created', version: written,
      conflict: { path: at('effective_from'), message: `must be in the future: plan "${plan.id}" has been priced by its version ${latestInEffect.effective_from} since then, and a new version cannot reprice usage already charged` },
    };
  }
  const sameContents = sameJson(definitionOf(before), definitionOf(written));
  if (startsMs <= nowMs) {
    if (sameContents) return { change: 'unchanged', version: before };
    return {
      change: 'changed', version: written,
      conflict: { path: at(), message: `plan "${plan.id}" version ${written.effective_from} is in effect and cannot change: add a version with a later effective_from instead` },
    };
  }
  const unchanged = sameContents && before.tariff_version === written.tariff_version && sameJson(before.tariff_document, written.tariff_document);
  return unchanged ? { change: 'unchanged', version: before } : { change: 'changed', version: written };
}

/** What the document says of a version; the snapshot is the store's. */
function definitionOf(version: PlanVersionDocument): PlanVersionDocument {
  return { effective_from: version.effective_from, tariff: version.tariff, allowances: version.allowances, fees: version.fees };
}

// The rules that span the parts of a catalog: ids are unique, every rating group and tariff a
// part names is declared in the same document, a plan's versions come in time order and use
// tariffs in the plan's currency. A catalog is self-contained, so it can be checked offline, e.g.
// by the CLI before it is sent. A reference to an entry that is itself broken is not reported
// again: the entry's own problems say what to fix.
import type { CatalogTariffDocument, PlanDocument, PlanVersionDocument, RatingGroupDocument } from './catalog-document.js';
import { instantMs } from './catalog-document.js';

export type Path = (string | number)[];

export interface PathProblem {
  path: Path;
  message: string;
}

/** A plan whose versions are parsed one by one. */
export type PlanParts = Omit<PlanDocument, 'versions'> & { versions: (PlanVersionDocument | undefined)[] };

/** Each part as parsed, or undefined where it has problems of its own; ids as written. */
export interface CatalogParts {
  ratingGroups: (RatingGroupDocument | undefined)[];
  tariffs: (CatalogTariffDocument | undefined)[];
  plans: (PlanParts | undefined)[];
  ratingGroupIds: unknown[];
  tariffIds: unknown[];
  planIds: unknown[];
}

export function checkReferences(parts: CatalogParts): PathProblem[] {
  const ratingGroupIds = new Set(parts.ratingGroupIds);
  // The first of duplicate ids is the one references resolve to; the others are reported.
  const tariffs = new Map<unknown, CatalogTariffDocument | undefined>(parts.tariffIds.map((id, index) => [id, parts.tariffs[index]] as const).reverse());
  return [
    ...duplicateIds('rating_groups', parts.ratingGroupIds),
    ...duplicateIds('tariffs', parts.tariffIds),
    ...duplicateIds('plans', parts.planIds),
    ...parts.tariffs.flatMap((tariff, index) => tariff === undefined ? [] : checkTariffRatingGroups(tariff, index, ratingGroupIds)),
    ...parts.plans.flatMap((plan, index) => plan === undefined ? [] : checkPlan(plan, index, tariffs, ratingGroupIds)),
  ];
}

function duplicateIds(section: string, ids: readonly unknown[]): PathProblem[] {
  return duplicates(ids, (index, earlier) => ({ path: [section, index, 'id'], message: `${JSON.stringify(ids[index])} is already the id of ${section}[${earlier}]` }));
}

/** A problem for each key already seen at an earlier index; undefined keys (broken entries) are skipped. */
function duplicates(keys: readonly unknown[], problemAt: (index: number, earlier: number) => PathProblem): PathProblem[] {
  const first = new Map<unknown, number>();
  const problems: PathProblem[] = [];
  keys.forEach((key, index) => {
    if (key === undefined) return;
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, index);
    else problems.push(problemAt(index, earlier));
  });
  return problems;
}

function unknownRatingGroup(id: number): string {
  return `unknown rating group ${id}: declare it in rating_groups`;
}

function checkTariffRatingGroups(tariff: CatalogTariffDocument, index: number, ratingGroupIds: ReadonlySet<unknown>): PathProblem[] {
  return tariff.rates.flatMap((rate, position) => ratingGroupIds.has(rate.rating_group) ? []
    : [{ path: ['tariffs', index, 'rates', position, 'rating_group'], message: unknownRatingGroup(rate.rating_group) }]);
}

function checkPlan(plan: PlanParts, index: number, tariffs: ReadonlyMap<unknown, CatalogTariffDocument | undefined>, ratingGroupIds: ReadonlySet<unknown>): PathProblem[] {
  return plan.versions.flatMap((version, position) => {
    if (version === undefined) return [];
    const at = (...path: Path): Path => ['plans', index, 'versions', position, ...path];
    const previous = plan.versions[position - 1];
    return [
      ...(previous !== undefined && instantMs(version.effective_from) <= instantMs(previous.effective_from)
        ? [{ path: at('effective_from'), message: `must be later than the previous version's (${previous.effective_from}): versions are listed in time order` }]
        : []),
      ...checkVersionTariff(plan, version, tariffs, at),
      ...version.allowances.flatMap((allowance, item) => ratingGroupIds.has(allowance.rating_group) ? []
        : [{ path: at('allowances', item, 'rating_group'), message: unknownRatingGroup(allowance.rating_group) }]),
      ...duplicateNames(version.allowances, (item) => at('allowances', item, 'name'), 'allowances'),
      ...duplicateNames(version.fees, (item) => at('fees', item, 'name'), 'fees'),
    ];
  });
}

function checkVersionTariff(plan: PlanParts, version: PlanVersionDocument, tariffs: ReadonlyMap<unknown, CatalogTariffDocument | undefined>, at: (...path: Path) => Path): PathProblem[] {
  if (!tariffs.has(version.tariff)) return [{ path: at('tariff'), message: `unknown tariff "${version.tariff}": declare it in tariffs` }];
  const tariff = tariffs.get(version.tariff);
  if (tariff !== undefined && tariff.currency !== plan.currency) {
    return [{ path: at('tariff'), message: `tariff "${tariff.id}" is in ${tariff.currency}, the plan in ${plan.currency}` }];
  }
  return [];
}

function duplicateNames(items: readonly { name: string }[], pathOf: (index: number) => Path, what: string): PathProblem[] {
  return duplicates(items.map((item) => item.name), (index, earlier) => ({
    path: pathOf(index), message: `"${items[index]!.name}" is already the name of ${what}[${earlier}] of this version`,
  }));
}

// Catalog text or a parsed value → a CatalogDocument, or every problem found, each naming its
// field by path and, for text, its line: `plans[0].versions[1].tariff` on line 42. A catalog with
// any problem is refused whole. JSON text is read as YAML, of which it is a subset, so a JSON file
// gets line numbers too.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import type { Problem } from '../errors.js';
import { TEXT_RULE } from '../formats.js';
import { fieldPath } from '../rating/tariff-document.js';
import { controlCharacterPaths } from '../validation.js';
import {
  CATALOG_LIMITS, catalogOutlineSchema, catalogTariffSchema, planOutlineSchema, planVersionSchema, ratingGroupSchema, type CatalogDocument,
} from './catalog-document.js';
import { checkReferences, type Path, type PathProblem, type PlanParts } from './catalog-references.js';

/** The line of a path in the text the catalog came from, when it came from text. */
export type Locate = (path: Path) => number | undefined;

export type CatalogCheck = { ok: true; catalog: CatalogDocument; locate: Locate } | { ok: false; problems: Problem[] };

/** Aliases can multiply a small file into a huge value ("billion laughs"); a catalog needs few. */
const YAML_ALIASES_MAX = 100;
const noLines: Locate = () => undefined;

export function checkCatalogText(text: string): CatalogCheck {
  if (Buffer.byteLength(text) > CATALOG_LIMITS.bytesMax) {
    return { ok: false, problems: [{ field: 'catalog', message: `is larger than ${CATALOG_LIMITS.bytesMax} bytes` }] };
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (document.errors.length > 0) {
    return {
      ok: false,
      problems: document.errors.map((error) => ({ field: 'catalog', line: lineCounter.linePos(error.pos[0]).line, message: error.message })),
    };
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: YAML_ALIASES_MAX });
  } catch (error) {
    return { ok: false, problems: [{ field: 'catalog', message: (error as Error).message }] };
  }
  return checkCatalogValue(value, locator(document, lineCounter));
}

export function checkCatalogValue(value: unknown, locate: Locate = noLines): CatalogCheck {
  const controls = controlCharacterPaths(value).map((path): PathProblem => ({ path, message: TEXT_RULE }));
  if (controls.length > 0) return { ok: false, problems: toProblems(controls, locate) };
  const outline = catalogOutlineSchema.safeParse(value);
  if (!outline.success) return { ok: false, problems: toProblems(outline.error.issues.map((issue) => fromIssue([], issue)), locate) };
  const found: PathProblem[] = [];
  const parse = <Schema extends z.ZodType>(path: Path, entry: unknown, schema: Schema): z.output<Schema> | undefined => {
    const result = schema.safeParse(entry);
    if (!result.success) found.push(...result.error.issues.map((issue) => fromIssue(path, issue)));
    return result.success ? result.data : undefined;
  };
  const { rating_groups: ratingGroupEntries, tariffs: tariffEntries, plans: planEntries } = outline.data;
  const plans = planEntries.map((entry, index): PlanParts | undefined => {
    const plan = parse(['plans', index], entry, planOutlineSchema);
    return plan && { ...plan, versions: plan.versions.map((version, position) => parse(['plans', index, 'versions', position], version, planVersionSchema)) };
  });
  const parts = {
    ratingGroups: ratingGroupEntries.map((entry, index) => parse(['rating_groups', index], entry, ratingGroupSchema)),
    tariffs: tariffEntries.map((entry, index) => parse(['tariffs', index], entry, catalogTariffSchema)),
    plans,
    ratingGroupIds: ratingGroupEntries.map(idAsWritten),
    tariffIds: tariffEntries.map(idAsWritten),
    planIds: planEntries.map(idAsWritten),
  };
  found.push(...checkReferences(parts));
  if (found.length > 0) return { ok: false, problems: toProblems(found, locate) };
  const catalog = { rating_groups: parts.ratingGroups, tariffs: parts.tariffs, plans: parts.plans } as CatalogDocument;
  return { ok: true, catalog, locate };
}

/** "plans[0].versions[1].tariff: unknown tariff "x" (line 42)". */
export function describeProblem(problem: Problem): string {
  return `${problem.field}: ${problem.message}${problem.line === undefined ? '' : ` (line ${problem.line})`}`;
}

export function toProblems(found: readonly PathProblem[], locate: Locate): Problem[] {
  const problems = found.map(({ path, message }): Problem => {
    const line = locate(path);
    return { field: fieldPath(path) || 'catalog', message, ...(line === undefined ? {} : { line }) };
  });
  // Stable: problems of one line keep the order they were found in.
  return problems.sort((first, second) => (first.line ?? Number.MAX_SAFE_INTEGER) - (second.line ?? Number.MAX_SAFE_INTEGER));
}

function fromIssue(prefix: Path, issue: z.core.$ZodIssue): PathProblem {
  const path = [...prefix, ...issue.path.map((part) => (typeof part === 'number' ? part : String(part)))];
  if (issue.code === 'unrecognized_keys') return { path: [...path, issue.keys[0]!], message: `unknown field ${issue.keys.join(', ')}` };
  return { path, message: issue.message };
}

/** The id of an entry as written, so that a reference to a broken entry is not reported as unknown. */
function idAsWritten(entry: unknown): unknown {
  return typeof entry === 'object' && entry !== null ? (entry as { id?: unknown }).id : undefined;
}

/** The line of the deepest node on the path; a map key's own line where the path ends at a key. */
function locator(document: Document, lineCounter: LineCounter): Locate {
  const lineAt = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range === undefined ? undefined : lineCounter.linePos(range[0]).line;
  };
  return (path) => {
    let node: unknown = document.contents;
    let line = lineAt(node);
    for (const key of path) {
      if (isAlias(node)) node = node.resolve(document);
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
        if (pair === undefined) break;
        line = lineAt(pair.key) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof key === 'number' && node.items[key] !== undefined) {
        node = node.items[key];
        line = lineAt(node) ?? line;
      } else {
        break;
      }
    }
    return line;
  };
}

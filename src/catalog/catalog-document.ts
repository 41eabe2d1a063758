// The catalog format: rating groups, tariffs and plans in one YAML or JSON document, snake_case
// like the admin API. A tariff is the tariff format of src/rating/tariff-document.ts with an id;
// a plan is a list of versions, each naming a tariff and the allowances and fees it includes.
// Each part (rating group, tariff, plan, plan version) has its own schema, so that one broken
// part does not hide the problems of the rest (catalog-check.ts runs them and the cross-references). See README "Catalog".
import { z } from 'zod';
import { parseRfc3339, RFC3339_RULE } from '../formats.js';
import { parseAmount } from '../money/amount.js';
import { isCurrency } from '../money/currency.js';
import { tariffDocumentSchema, type TariffDocument } from '../rating/tariff-document.js';

export type RatingGroupUnit = 'bytes' | 'seconds' | 'events';
export type AllowanceScope = 'customer' | 'device';
export type AllowancePeriod = 'day' | 'week' | 'month';
export type FeePeriod = 'month' | 'year';

export interface CatalogDocument {
  rating_groups: RatingGroupDocument[];
  tariffs: CatalogTariffDocument[];
  plans: PlanDocument[];
}

export interface RatingGroupDocument {
  id: number;
  name: string;
  unit: RatingGroupUnit;
}

export type CatalogTariffDocument = { id: string } & TariffDocument;

export interface PlanDocument {
  id: string;
  name: string;
  currency: string;
  /** In increasing effective_from order. */
  versions: PlanVersionDocument[];
}

export interface PlanVersionDocument {
  /** RFC 3339, kept as UTC ("2027-01-01T00:00:00Z") so that equal instants are equal strings. */
  effective_from: string;
  /** The id of a tariff of the catalog, in the plan's currency. */
  tariff: string;
  allowances: AllowanceDocument[];
  fees: FeeDocument[];
}

/** A bundle granted each period, e.g. 500 MB per device per month. */
export interface AllowanceDocument {
  name: string;
  rating_group: number;
  /** In the rating group's unit. */
  units: number;
  /** `device`: each device gets its own; `customer`: one pool for the fleet. */
  scope: AllowanceScope;
  period: AllowancePeriod;
  /** Higher is used first, 0 to 999. */
  priority: number;
  /** A grant stays valid this many periods. */
  validity_periods: number;
  /** At most this many unused units of an ending grant move into the next one. */
  rollover_max_units: number;
}

/** A recurring charge, e.g. 1.00 per device per month; invoicing turns it into lines. */
export interface FeeDocument {
  name: string;
  per: 'device' | 'customer';
  period: FeePeriod;
  /** In the plan's currency, at most 6 decimals. */
  amount: string;
  /** Charge part of a period by the days active in it, instead of the whole amount. */
  prorate: boolean;
}

export const CATALOG_LIMITS = {
  ratingGroupsMax: 1000,
  tariffsMax: 1000,
  plansMax: 1000,
  versionsPerPlanMax: 64,
  allowancesPerVersionMax: 32,
  feesPerVersionMax: 32,
  validityPeriodsMax: 12,
  /** The largest catalog file or body. */
  bytesMax: 4 * 1024 * 1024,
} as const;

const UNITS_MAX = Number.MAX_SAFE_INTEGER;
/** Ids and names that become parts of other ids (allowance grants) keep to a safe alphabet. */
const catalogId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-"');
const title = z.string().min(1, 'is required').max(200, 'must be at most 200 characters');
const currency = z.string().refine(isCurrency, 'must be an ISO 4217 code such as "EUR"');
const wholeNumber = (min: number, max: number, rule: string) => z.number().int('must be a whole number').min(min, rule).max(max, rule);
const ratingGroupId = wholeNumber(1, 0xffff_ffff, 'must be 1 to 4294967295');
const amount = z.string().refine((text) => {
  const parsed = parseAmount(text);
  return parsed.ok && parsed.micros >= 0n && text === text.trim();
}, 'must be a decimal string of 0 or more with at most 6 decimals, such as "1.50"');

export const instantText = z.string().transform((text, context) => {
  const ms = parseRfc3339(text);
  if (ms !== undefined) return formatInstant(ms);
  context.addIssue({ code: 'custom', message: RFC3339_RULE });
  return z.NEVER;
});

export const ratingGroupSchema = z.strictObject({
  id: ratingGroupId,
  name: title,
  unit: z.enum(['bytes', 'seconds', 'events'], 'must be bytes, seconds or events'),
}) satisfies z.ZodType<RatingGroupDocument>;

/** The tariff format itself, every rule included, plus the id plans refer to it by. */
export const catalogTariffSchema = tariffDocumentSchema.safeExtend({ id: catalogId }) satisfies z.ZodType<CatalogTariffDocument>;

const allowance = z.strictObject({
  name: catalogId,
  rating_group: ratingGroupId,
  units: wholeNumber(1, UNITS_MAX, 'must be 1 to 2^53-1'),
  scope: z.enum(['customer', 'device'], 'must be customer or device'),
  period: z.enum(['day', 'week', 'month'], 'must be day, week or month'),
  priority: wholeNumber(0, 999, 'must be 0 to 999').default(0),
  validity_periods: wholeNumber(1, CATALOG_LIMITS.validityPeriodsMax, `must be 1 to ${CATALOG_LIMITS.validityPeriodsMax}`).default(1),
  rollover_max_units: wholeNumber(0, UNITS_MAX, 'must be 0 to 2^53-1').default(0),
});

const fee = z.strictObject({
  name: catalogId,
  per: z.enum(['device', 'customer'], 'must be device or customer'),
  period: z.enum(['month', 'year'], 'must be month or year'),
  amount,
  prorate: z.boolean('must be true or false').default(true),
});

export const planVersionSchema = z.strictObject({
  effective_from: instantText,
  tariff: catalogId,
  allowances: z.array(allowance).max(CATALOG_LIMITS.allowancesPerVersionMax, `must have at most ${CATALOG_LIMITS.allowancesPerVersionMax} allowances`).default([]),
  fees: z.array(fee).max(CATALOG_LIMITS.feesPerVersionMax, `must have at most ${CATALOG_LIMITS.feesPerVersionMax} fees`).default([]),
}) satisfies z.ZodType<PlanVersionDocument>;

/** A plan with its versions unparsed, so that each version is checked on its own. */
export const planOutlineSchema = z.strictObject({
  id: catalogId,
  name: title,
  currency,
  versions: z.array(z.unknown()).min(1, 'must have at least one version')
    .max(CATALOG_LIMITS.versionsPerPlanMax, `must have at most ${CATALOG_LIMITS.versionsPerPlanMax} versions`),
});

const list = (max: number, what: string) => z.array(z.unknown()).max(max, `must have at most ${max} ${what}`).default([]);

/** The outline only: each entry is then parsed by its own schema. */
export const catalogOutlineSchema = z.strictObject({
  rating_groups: list(CATALOG_LIMITS.ratingGroupsMax, 'rating groups'),
  tariffs: list(CATALOG_LIMITS.tariffsMax, 'tariffs'),
  plans: list(CATALOG_LIMITS.plansMax, 'plans'),
}, 'must be a catalog: a mapping with rating_groups, tariffs and plans');

/** RFC 3339 in UTC, with milliseconds only when there are some: "2027-01-01T00:00:00Z". */
export function formatInstant(ms: number): string {
  const text = new Date(ms).toISOString();
  return text.endsWith('.000Z') ? `${text.slice(0, -5)}Z` : text;
}

export function instantMs(text: string): number {
  const ms = parseRfc3339(text);
  if (ms === undefined) throw new Error(`not an RFC 3339 instant: ${text}`);
  return ms;
}

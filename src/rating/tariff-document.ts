// The tariff format: plain data an operator writes in YAML or JSON and the catalog stores as it
// is. Field names are snake_case like the admin API, prices are decimal strings, units are whole
// numbers. Parsing rejects a document whole and names the path of every problem, e.g.
// `rates[0].intervals[1].increment_units: must be at least 1`. See README "Tariffs".
import { z } from 'zod';
import { isCurrency } from '../money/currency.js';
import type { TariffDocument } from './tariff-format.js';
import { checkTariffRules } from './tariff-document-rules.js';

export type {
  BandDocument, IntervalDocument, RateDocument, TariffDocument, TierMode, TierScope, TiersDocument, TierStepDocument, Weekday, ZoneDocument,
} from './tariff-format.js';

export const TARIFF_LIMITS = {
  bandsMax: 64,
  datesPerBandMax: 366,
  zonesMax: 256,
  locationsPerZoneMax: 4096,
  ratesMax: 256,
  intervalsMax: 16,
  tierStepsMax: 16,
} as const;

const UNITS_MAX = Number.MAX_SAFE_INTEGER;
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-"');
const price = z.string().regex(/^\d{1,12}(\.\d{1,18})?$/, 'must be a decimal string such as "0.50", at most 18 decimals');
const amount = z.string().regex(/^\d{1,9}(\.\d{1,6})?$/, 'must be a decimal string such as "1.50", at most 6 decimals');
const count = z.number().int('must be a whole number').min(1, 'must be at least 1').max(UNITS_MAX, 'must be at most 2^53-1');
const units = z.number().int('must be a whole number').min(0, 'must be at least 0').max(UNITS_MAX, 'must be at most 2^53-1');
const uint32 = z.number().int('must be a whole number').min(0, 'must be at least 0').max(0xffff_ffff, 'must fit in 32 bits');
const clock = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be a time "HH:MM" from 00:00 to 24:00');
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date "YYYY-MM-DD"').refine(isCalendarDate, 'must be a real calendar date');
const bandPrices = z.record(name, price).optional();

const band = z.strictObject({
  name,
  weight: z.number().int('must be a whole number').min(0, 'must be 0 to 1000000').max(1_000_000, 'must be 0 to 1000000'),
  days: z.array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], 'must be mon, tue, wed, thu, fri, sat or sun')).min(1, 'must name at least one day').optional(),
  dates: z.array(date).min(1, 'must name at least one date').max(TARIFF_LIMITS.datesPerBandMax, `must have at most ${TARIFF_LIMITS.datesPerBandMax} dates`).optional(),
  from: clock.optional(),
  until: clock.optional(),
});

const zone = z.strictObject({
  name,
  networks: z.array(z.string().regex(/^\d{3}(-\d{2,3})?$/, 'must be "MCC-MNC" such as "262-01", or "MCC" such as "262"'))
    .max(TARIFF_LIMITS.locationsPerZoneMax, `must have at most ${TARIFF_LIMITS.locationsPerZoneMax} networks`).optional(),
  location_ids: z.array(z.string().regex(/^[\x21-\x7e]{1,64}$/, 'must be 1-64 printable characters'))
    .max(TARIFF_LIMITS.locationsPerZoneMax, `must have at most ${TARIFF_LIMITS.locationsPerZoneMax} location ids`).optional(),
});

const tierStep = z.strictObject({ up_to_units: count.optional(), price, band_prices: bandPrices });

const interval = z.strictObject({
  from_units: units.default(0),
  increment_units: count,
  per_units: count.default(1),
  price: price.optional(),
  band_prices: bandPrices,
  tiers: z.strictObject({
    mode: z.enum(['graduated', 'volume'], 'must be graduated or volume'),
    steps: z.array(tierStep).min(1, 'must have at least one step').max(TARIFF_LIMITS.tierStepsMax, `must have at most ${TARIFF_LIMITS.tierStepsMax} steps`),
  }).optional(),
});

const rate = z.strictObject({
  rating_group: uint32.min(1, 'must be at least 1'),
  zones: z.array(name).min(1, 'must name at least one zone').optional(),
  service_id: uint32.optional(),
  apn: z.string().regex(/^[A-Za-z0-9.-]{1,100}$/, 'must be an APN/DNN such as "iot.example"').optional(),
  qos_class: z.number().int('must be a whole number').min(0, 'must be 0 to 255').max(255, 'must be 0 to 255').optional(),
  device_type: name.optional(),
  connect_fee: price.default('0'),
  min_charge: amount.optional(),
  max_charge: amount.optional(),
  tier_scope: z.enum(['customer', 'device'], 'must be customer or device').default('customer'),
  intervals: z.array(interval).min(1, 'must have at least one interval').max(TARIFF_LIMITS.intervalsMax, `must have at most ${TARIFF_LIMITS.intervalsMax} intervals`),
});

export const tariffDocumentSchema = z.strictObject({
  name: z.string().min(1, 'is required').max(200, 'must be at most 200 characters'),
  currency: z.string().refine(isCurrency, 'must be an ISO 4217 code such as "EUR"'),
  time_zone: z.string().refine(isTimeZone, 'must be an IANA time zone such as "Europe/Berlin"').default('UTC'),
  rounding: z.strictObject({
    mode: z.enum(['up', 'down', 'half-even'], 'must be up, down or half-even'),
    decimals: z.number().int('must be a whole number').min(0, 'must be 0 to 6').max(6, 'must be 0 to 6'),
  }).default({ mode: 'up', decimals: 6 }),
  final_unit_action: z.enum(['terminate', 'redirect', 'restrict-access'], 'must be terminate, redirect or restrict-access').default('terminate'),
  bands: z.array(band).max(TARIFF_LIMITS.bandsMax, `must have at most ${TARIFF_LIMITS.bandsMax} bands`).optional(),
  zones: z.array(zone).max(TARIFF_LIMITS.zonesMax, `must have at most ${TARIFF_LIMITS.zonesMax} zones`).optional(),
  default_zone: name.optional(),
  rates: z.array(rate).min(1, 'must have at least one rate').max(TARIFF_LIMITS.ratesMax, `must have at most ${TARIFF_LIMITS.ratesMax} rates`),
}).superRefine((document, context) => {
  for (const problem of checkTariffRules(document)) context.addIssue({ code: 'custom', message: problem.message, path: problem.path });
}) satisfies z.ZodType<TariffDocument>;

export interface TariffProblem {
  /** e.g. `rates[0].intervals[1].increment_units` */
  field: string;
  message: string;
}

/** A tariff that cannot be used, with every problem found; the message names the first. */
export class TariffDocumentError extends Error {
  constructor(readonly problems: TariffProblem[]) {
    const [first] = problems;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super(first === undefined ? 'invalid tariff' : `${first.field}: ${first.message}${more}`);
    this.name = 'TariffDocumentError';
  }
}

export type TariffCheck = { ok: true; document: TariffDocument } | { ok: false; problems: TariffProblem[] };

export function checkTariffDocument(input: unknown): TariffCheck {
  const result = tariffDocumentSchema.safeParse(input);
  if (result.success) return { ok: true, document: result.data };
  return { ok: false, problems: result.error.issues.map(toProblem) };
}

export function parseTariffDocument(input: unknown): TariffDocument {
  const checked = checkTariffDocument(input);
  if (!checked.ok) throw new TariffDocumentError(checked.problems);
  return checked.document;
}

function toProblem(issue: z.core.$ZodIssue): TariffProblem {
  const message = issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}` : issue.message;
  return { field: fieldPath(issue.path) || 'tariff', message };
}

export function fieldPath(path: readonly PropertyKey[]): string {
  let field = '';
  for (const part of path) field += typeof part === 'number' ? `[${part}]` : `${field === '' ? '' : '.'}${String(part)}`;
  return field;
}

function isCalendarDate(text: string): boolean {
  const [year, month, day] = text.split('-').map(Number) as [number, number, number];
  const at = new Date(Date.UTC(year, month - 1, day));
  return at.getUTCFullYear() === year && at.getUTCMonth() === month - 1 && at.getUTCDate() === day;
}

function isTimeZone(value: string): boolean {
  if (value.length === 0 || value.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

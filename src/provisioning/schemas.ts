// What an operator may send to the admin API, with every limit in one place. Validation
// failures become INVALID_ARGUMENT errors that name the field, e.g. `rates[0].price`.
import { z } from 'zod';
import { isTimeZone } from '../charging/periods.js';
import { hasControlCharacter, ID_RULE, isId, parseRfc3339, RFC3339_RULE, TEXT_RULE, UINT32_DIGITS } from '../formats.js';
import { parseAmount } from '../money/amount.js';
import { isCurrency } from '../money/currency.js';

export const RATES_PER_TARIFF_MAX = 256;
/** Per holder: a customer's pool, or one device. */
export const ALLOWANCES_PER_HOLDER_MAX = 256;
/** The admin API lists a customer's allowances up to this many. */
export const ALLOWANCES_LISTED_MAX = 1000;
export const NAME_LENGTH_MAX = 200;
export const PAGE_SIZE_MAX = 1000;

const id = z.string().refine(isId, ID_RULE);
/** Free text: the HTTP body reader refuses control characters already; this holds for any other caller. */
const plainText = (lengthMax: number, emptyRule: string) =>
  z.string().min(1, emptyRule).max(lengthMax, `must be at most ${lengthMax} characters`).refine((text) => !hasControlCharacter(text), TEXT_RULE);
const name = plainText(NAME_LENGTH_MAX, 'is required');
const currency = z.string().refine(isCurrency, 'must be an ISO 4217 code such as "EUR"');
/** Prices may be far below a micro-unit per unit: up to 18 decimals. */
const price = z.string().regex(/^\d{1,12}(\.\d{1,18})?$/, 'must be a decimal string such as "0.50", at most 18 decimals');
const amount = z.string().refine((text) => {
  const parsed = parseAmount(text);
  return parsed.ok && parsed.micros >= 0n;
}, 'must be a decimal string of 0 or more with at most 6 decimals, such as "12.50"');
const safeCount = z.number().int('must be a whole number').min(1, 'must be at least 1').max(Number.MAX_SAFE_INTEGER, 'is too large');
const units = z.union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.string().regex(/^\d{1,16}$/)], {
  error: 'must be a whole number of units from 0 to 2^53-1',
}).transform((value) => BigInt(value)).refine((value) => value <= BigInt(Number.MAX_SAFE_INTEGER), 'must be at most 2^53-1');
const ratingGroupId = z.number().int('must be a whole number').min(1, 'must be at least 1').max(0xffff_ffff, 'must fit in 32 bits');
const timestamp = z.string().transform((text, context) => {
  const ms = parseRfc3339(text);
  if (ms !== undefined) return new Date(ms);
  context.addIssue({ code: 'custom', message: RFC3339_RULE });
  return z.NEVER;
});

export const ratingGroupBody = z.strictObject({
  name,
  unit: z.enum(['bytes', 'seconds', 'events'], 'must be bytes, seconds or events'),
});

export const tariffBody = z.strictObject({
  name,
  currency,
  rounding: z.strictObject({
    mode: z.enum(['up', 'down', 'half-even'], 'must be up, down or half-even'),
    decimals: z.number().int().min(0, 'must be 0 to 6').max(6, 'must be 0 to 6'),
  }).default({ mode: 'up', decimals: 6 }),
  final_unit_action: z.enum(['terminate', 'redirect', 'restrict-access'], 'must be terminate, redirect or restrict-access').default('terminate'),
  rates: z.array(z.strictObject({
    rating_group: ratingGroupId,
    price,
    per_units: safeCount.default(1),
    increment_units: safeCount.default(1),
    connect_fee: price.default('0'),
  })).min(1, 'must have at least one rate').max(RATES_PER_TARIFF_MAX, `must have at most ${RATES_PER_TARIFF_MAX} rates`),
});

const percent = z.string().regex(/^\d{1,2}(\.\d{1,4})?$/, 'must be a percentage as a decimal string such as "20" or "7.5"');
const addressLine = plainText(200, 'must not be empty');

/** How the customer is billed: read by the offline path (billing runs, invoices, statements). */
const billingSettings = {
  billing_mode: z.enum(['prepaid', 'postpaid', 'hybrid'], 'must be prepaid, postpaid or hybrid').default('prepaid'),
  anniversary_day: z.number().int('must be a whole number').min(1, 'must be 1 to 31').max(31, 'must be 1 to 31').nullable().default(null),
  payment_terms_days: z.number().int('must be a whole number').min(0, 'must be 0 to 365').max(365, 'must be 0 to 365').default(30),
  tax_id: plainText(64, 'must not be empty').nullable().default(null),
  tax_rates: z.array(z.strictObject({ name: plainText(64, 'must not be empty'), percent }))
    .max(8, 'must have at most 8 rates').default([]),
  discount_percent: z.string().regex(/^\d{1,3}(\.\d{1,4})?$/, 'must be a percentage from 0 to 100 as a decimal string such as "10"')
    .refine((text) => Number(text) <= 100, 'must be at most 100').default('0'),
  invoice_address: z.strictObject({
    lines: z.array(addressLine).min(1, 'must have at least one line').max(6, 'must have at most 6 lines'),
    country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166 country code such as "FR"'),
  }).nullable().default(null),
};

export const customerBody = z.strictObject({
  name,
  currency,
  time_zone: z.string().refine(isTimeZone, 'must be an IANA time zone such as "Europe/Paris"').default('UTC'),
  tariff_id: id.nullable().default(null),
  credit_limit: amount.default('0'),
  ...billingSettings,
});

export const deviceBody = z.strictObject({
  customer_id: id,
  status: z.enum(['active', 'suspended'], 'must be active or suspended').default('active'),
  daily_cap: amount.nullable().default(null),
  monthly_cap: amount.nullable().default(null),
  /** When it went into service; now when first created, else as it was. */
  activated_at: timestamp.optional(),
  /** When it leaves service (exclusive); null to clear it, as it was when absent. */
  deactivated_at: timestamp.nullable().optional(),
});

export const allowanceBody = z.strictObject({
  id: id.optional(),
  device_id: id.nullable().default(null),
  rating_group: ratingGroupId,
  units_total: units,
  priority: z.number().int().min(0, 'must be 0 to 999').max(999, 'must be 0 to 999').default(0),
  valid_from: timestamp,
  valid_until: timestamp,
});

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX, `must be at most ${PAGE_SIZE_MAX}`).default(100),
  after: id.optional(),
});

export const pathId = id;
/** Number() would read "0x10" as rating group 16 and "1e1" as 10: only plain digits are taken. */
export const ratingGroupPathId = z.string().regex(UINT32_DIGITS, 'must be a whole number in decimal digits').transform(Number).pipe(ratingGroupId);

export { parseWith } from '../validation.js';

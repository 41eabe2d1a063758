// Rows as PostgreSQL returns them, and the views the admin API sends: snake_case, amounts as
// decimal strings, units as decimal strings (as proto3 JSON writes uint64), times in RFC 3339.
import type { AllowanceProjection } from '../balance/projection.js';
import { formatMicros } from '../money/amount.js';
import { Decimal } from '../rating/decimal.js';
import type { TariffDefinition } from '../rating/tariff.js';

export interface Page<Item> {
  items: Item[];
  /** Pass as `after` for the next page; absent on the last page. */
  next_after?: string;
}

export function page<Item extends { id: string }>(items: Item[], limit: number): Page<Item> {
  return items.length < limit ? { items } : { items, next_after: items[items.length - 1]!.id };
}

export interface RatingGroupRow { id: number; name: string; unit: 'bytes' | 'seconds' | 'events'; created_at: Date; updated_at: Date }
export interface RatingGroupView { id: number; name: string; unit: 'bytes' | 'seconds' | 'events' }

export function ratingGroup(row: RatingGroupRow): RatingGroupView {
  return { id: row.id, name: row.name, unit: row.unit };
}

export interface TariffRow { id: string; name: string; currency: string; definition: TariffDefinition; version: number; updated_at: Date }

export function tariff(row: TariffRow) {
  const definition = row.definition;
  return {
    id: row.id,
    name: row.name,
    currency: row.currency,
    version: row.version,
    rounding: definition.rounding,
    final_unit_action: definition.finalUnitAction,
    rates: definition.rates.map((rate) => ({
      rating_group: rate.ratingGroup, price: rate.price, per_units: rate.perUnits, increment_units: rate.incrementUnits, connect_fee: rate.connectFee,
    })),
    updated_at: row.updated_at.toISOString(),
  };
}
export type TariffView = ReturnType<typeof tariff>;

export interface CustomerRow {
  id: string; name: string; currency: string; time_zone: string; tariff_id: string | null;
  credit_limit_micros: string; created_at: Date; updated_at: Date;
  billing_mode: 'prepaid' | 'postpaid' | 'hybrid'; anniversary_day: number | null; payment_terms_days: number;
  tax_id: string | null; tax_rates: { name: string; percent: string }[]; invoice_address: { lines: string[]; country: string } | null;
  discount_percent: string;
}

export function customer(row: CustomerRow) {
  return {
    id: row.id, name: row.name, currency: row.currency, time_zone: row.time_zone, tariff_id: row.tariff_id,
    credit_limit: formatMicros(row.credit_limit_micros),
    billing_mode: row.billing_mode, anniversary_day: row.anniversary_day, payment_terms_days: row.payment_terms_days,
    tax_id: row.tax_id, tax_rates: row.tax_rates, invoice_address: row.invoice_address, discount_percent: new Decimal(row.discount_percent).toString(),
    created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString(),
  };
}
export type CustomerView = ReturnType<typeof customer>;

export interface DeviceRow {
  id: string; customer_id: string; status: 'active' | 'suspended';
  daily_cap_micros: string | null; monthly_cap_micros: string | null; activated_at: Date; deactivated_at: Date | null;
  created_at: Date; updated_at: Date;
}

export function device(row: DeviceRow) {
  return {
    id: row.id, customer_id: row.customer_id, status: row.status,
    daily_cap: row.daily_cap_micros === null ? null : formatMicros(row.daily_cap_micros),
    monthly_cap: row.monthly_cap_micros === null ? null : formatMicros(row.monthly_cap_micros),
    activated_at: row.activated_at.toISOString(), deactivated_at: row.deactivated_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString(),
  };
}
export type DeviceView = ReturnType<typeof device>;

export interface AllowanceRow {
  id: string; customer_id: string; device_id: string | null; rating_group: number; units_total: string;
  priority: number; valid_from: Date; valid_until: Date; created_at: Date;
}

export function allowance(row: AllowanceRow) {
  return {
    id: row.id, customer_id: row.customer_id, device_id: row.device_id, scope: row.device_id === null ? 'customer' : 'device',
    rating_group: row.rating_group, units_total: row.units_total, priority: row.priority,
    valid_from: row.valid_from.toISOString(), valid_until: row.valid_until.toISOString(),
  };
}
export type AllowanceView = ReturnType<typeof allowance>;

export function allowanceProjection(row: AllowanceRow): AllowanceProjection {
  return {
    id: row.id, customerId: row.customer_id, deviceId: row.device_id, ratingGroup: row.rating_group,
    unitsTotal: BigInt(row.units_total), priority: row.priority, validFromMs: row.valid_from.getTime(), validUntilMs: row.valid_until.getTime(),
  };
}

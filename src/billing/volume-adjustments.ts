// Period-level tier adjustments: invoice lines that settle a month of volume tiers at the price
// of the tier reached (src/rating/volume-settlement.ts). A month's tier counters are named on the
// events that counted in them (`tu`: "<c:customer|d:device>:<rating group>:<YYYYMM>"), so the
// journal gives each counter's units. The rate is the one the plan in force at the month's last
// instant prices that rating group with, for the counter's scope; a counter is settled on the
// invoice whose period holds the month's end, once, with the usage journaled by the run.
import type pg from 'pg';
import { periodAt } from '../catalog/local-calendar.js';
import { compileTariffDocument, type CompiledRateRule, type CompiledTariffDocument } from '../rating/compiled-tariff.js';
import type { TariffDocument } from '../rating/tariff-format.js';
import { settleVolume, settlesByVolume } from '../rating/volume-settlement.js';
import type { BillingPeriod } from './billing-cycle.js';

export interface VolumeAdjustment {
  deviceId: string | null;
  ratingGroup: number;
  /** The month settled, "YYYY-MM". */
  month: string;
  units: bigint;
  /** The volume price less what was charged: zero or less. */
  amountMicros: bigint;
}

interface Counter {
  scope: 'customer' | 'device';
  deviceId: string | null;
  ratingGroup: number;
  month: string;
  units: bigint;
}

/** The months (YYYYMM) that end within the billing period, in the customer's time zone. */
function monthsEndingIn(period: BillingPeriod, timeZone: string): Map<string, number> {
  const months = new Map<string, number>();
  for (const instantMs of [period.startMs, period.endMs - 1]) {
    const month = periodAt('month', timeZone, instantMs);
    if (month.endMs > period.startMs && month.endMs <= period.endMs) months.set(month.startDate.slice(0, 7).replace('-', ''), month.endMs);
  }
  return months;
}

/** Ids may hold ':', so a counter's name is read from both ends. */
function parseCounter(name: string, units: string): Counter | undefined {
  const parts = name.split(':');
  const month = parts.pop();
  const ratingGroup = Number(parts.pop());
  const kind = parts.shift();
  if (month === undefined || !Number.isInteger(ratingGroup) || (kind !== 'c' && kind !== 'd')) return undefined;
  return { scope: kind === 'c' ? 'customer' : 'device', deviceId: kind === 'd' ? parts.join(':') : null, ratingGroup, month, units: BigInt(units) };
}

export async function volumeAdjustments(pool: pg.Pool, customer: { id: string; time_zone: string }, period: BillingPeriod, journaledUntilMs: number): Promise<VolumeAdjustment[]> {
  const months = monthsEndingIn(period, customer.time_zone);
  if (months.size === 0) return [];
  const { rows } = await pool.query<{ counter: string; units: string }>(
    `SELECT item->>'tu' AS counter, sum((item->>'mu')::bigint) AS units
     FROM journal_events e, jsonb_array_elements(e.data->'items') AS item
     WHERE e.customer_id = $1 AND item ? 'tu' AND right(item->>'tu', 6) = ANY($2) AND e.journaled_at <= $3
     GROUP BY 1 ORDER BY 1`,
    [customer.id, [...months.keys()], new Date(journaledUntilMs)]);
  const adjustments: VolumeAdjustment[] = [];
  const compiled = new Map<string, CompiledTariffDocument>();
  for (const row of rows) {
    const counter = parseCounter(row.counter, row.units);
    if (counter === undefined) continue;
    const tariff = await tariffAt(pool, customer.id, counter.deviceId, months.get(counter.month)! - 1, compiled);
    const rule = tariff === undefined ? undefined : volumeRule(tariff, counter);
    const settled = rule === undefined ? undefined : settleVolume(rule, tariff!.rounding, counter.units);
    if (settled === undefined || settled.volumeMicros >= settled.chargedMicros) continue;
    adjustments.push({
      deviceId: counter.deviceId, ratingGroup: counter.ratingGroup, month: `${counter.month.slice(0, 4)}-${counter.month.slice(4)}`,
      units: counter.units, amountMicros: settled.volumeMicros - settled.chargedMicros,
    });
  }
  return adjustments;
}

/** The only rate of the rating group settled by volume in the counter's scope; undefined when none or several. */
function volumeRule(tariff: CompiledTariffDocument, counter: Counter): CompiledRateRule | undefined {
  const rules = (tariff.rules.get(counter.ratingGroup) ?? []).filter((rule) => rule.tierScope === counter.scope && settlesByVolume(rule));
  return rules.length === 1 ? rules[0] : undefined;
}

/**
 * The tariff of the plan in force for the device (its own subscription, else its customer's) or
 * the customer; `compiled` keeps each plan version's compiled once, as a fleet's devices share it.
 */
async function tariffAt(pool: pg.Pool, customerId: string, deviceId: string | null, atMs: number, compiled: Map<string, CompiledTariffDocument>): Promise<CompiledTariffDocument | undefined> {
  const { rows } = await pool.query<{ version: string; tariff_document: TariffDocument }>(
    `SELECT s.plan_id || '@' || v.effective_from AS version, v.tariff_document FROM subscriptions s
     JOIN LATERAL (SELECT effective_from, tariff_document FROM plan_versions WHERE plan_id = s.plan_id AND effective_from <= $3
                   ORDER BY effective_from DESC LIMIT 1) v ON true
     WHERE s.customer_id = $1 AND (s.device_id = $2 OR s.device_id IS NULL) AND s.valid_from <= $3 AND (s.valid_until IS NULL OR s.valid_until > $3)
     ORDER BY s.device_id IS NULL LIMIT 1`,
    [customerId, deviceId, new Date(atMs)]);
  const row = rows[0];
  if (row === undefined) return undefined;
  if (!compiled.has(row.version)) compiled.set(row.version, compileTariffDocument(row.tariff_document));
  return compiled.get(row.version);
}

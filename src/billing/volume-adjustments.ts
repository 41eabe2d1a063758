// Period-level tier adjustments: invoice lines that settle a month of volume tiers at the price
// of the tier reached (src/rating/volume-settlement.ts). A month's tier counters are named on the
// events that counted in them (`tu`: "<c:customer|d:device>:<rating group>:<YYYYMM>"), so the
// journal gives each counter's units. The rate is the one the plan in force at the month's last
// instant prices that rating group with, for the counter's scope; a counter is settled on the
// invoice whose period holds the month's end, once, with the usage journaled by the run.
import type pg from 'pg';
import { periodAt, type LocalPeriod } from '../catalog/local-calendar.js';
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

const DAY_MS = 86_400_000;
const COMPILED_MAX = 1000;

interface Counter {
  scope: 'customer' | 'device';
  deviceId: string | null;
  ratingGroup: number;
  month: string;
  units: bigint;
}

/** The months (YYYYMM) that end within the billing period, in the customer's time zone. */
function monthsEndingIn(period: BillingPeriod, timeZone: string): Map<string, LocalPeriod> {
  const months = new Map<string, LocalPeriod>();
  for (const instantMs of [period.startMs, period.endMs - 1]) {
    const month = periodAt('month', timeZone, instantMs);
    if (month.endMs > period.startMs && month.endMs <= period.endMs) months.set(month.startDate.slice(0, 7).replace('-', ''), month);
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

/** Settles customers' months of volume tiers; keeps each plan version's tariff compiled once. */
export class VolumeAdjustments {
  /** By plan version and tariff snapshot, which never change once in effect. */
  private readonly compiled = new Map<string, CompiledTariffDocument>();

  constructor(private readonly pool: pg.Pool) {}

  async of(customer: { id: string; time_zone: string }, period: BillingPeriod, journaledUntilMs: number): Promise<VolumeAdjustment[]> {
    const months = monthsEndingIn(period, customer.time_zone);
    if (months.size === 0) return [];
    // Most customers' plans have no volume tiers: they are known by their plans alone.
    if (!(await this.anyVolumeRate(customer.id, [...months.values()]))) return [];
    const adjustments: VolumeAdjustment[] = [];
    for (const row of await this.counters(customer.id, months, journaledUntilMs)) {
      const counter = parseCounter(row.counter, row.units);
      if (counter === undefined) continue;
      const tariff = (await this.tariffsAt(customer.id, counter.deviceId, months.get(counter.month)!.endMs - 1))[0];
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

  private async anyVolumeRate(customerId: string, months: LocalPeriod[]): Promise<boolean> {
    for (const month of months) {
      const tariffs = await this.tariffsAt(customerId, undefined, month.endMs - 1);
      if (tariffs.some((tariff) => [...tariff.rules.values()].some((rules) => rules.some(settlesByVolume)))) return true;
    }
    return false;
  }

  /** A month's usage happened in it (an event_time is at most a day ahead of the service's clock), and was journaled by the run. */
  private async counters(customerId: string, months: Map<string, LocalPeriod>, journaledUntilMs: number) {
    const earliestMs = Math.min(...[...months.values()].map((month) => month.startMs)) - DAY_MS;
    const { rows } = await this.pool.query<{ counter: string; units: string }>(
      `SELECT item->>'tu' AS counter, sum((item->>'mu')::bigint) AS units
       FROM journal_events e, jsonb_array_elements(e.data->'items') AS item
       WHERE e.customer_id = $1 AND e.occurred_at >= $2 AND e.journaled_at <= $3 AND item ? 'tu' AND right(item->>'tu', 6) = ANY($4)
       GROUP BY 1 ORDER BY 1`,
      [customerId, new Date(earliestMs), new Date(journaledUntilMs), [...months.keys()]]);
    return rows;
  }

  /**
   * The tariffs of the plans in force at `atMs`: for a device, its own subscription's, else its
   * customer's (one); for the customer (`deviceId` null), its own; for all (undefined), every
   * subscription of the customer and its devices.
   */
  private async tariffsAt(customerId: string, deviceId: string | null | undefined, atMs: number): Promise<CompiledTariffDocument[]> {
    const { rows } = await this.pool.query<{ version: string; tariff_document: TariffDocument }>(
      `SELECT concat_ws('@', s.plan_id, v.effective_from, v.tariff_id, v.tariff_version) AS version, v.tariff_document FROM subscriptions s
       JOIN LATERAL (SELECT effective_from, tariff_id, tariff_version, tariff_document FROM plan_versions WHERE plan_id = s.plan_id AND effective_from <= $3
                     ORDER BY effective_from DESC LIMIT 1) v ON true
       WHERE s.customer_id = $1 AND ($2 = '' OR s.device_id = $2 OR s.device_id IS NULL) AND s.valid_from <= $3 AND (s.valid_until IS NULL OR s.valid_until > $3)
       ORDER BY s.device_id IS NULL${deviceId === undefined ? '' : ' LIMIT 1'}`,
      [customerId, deviceId === undefined ? '' : deviceId, new Date(atMs)]);
    return rows.map((row) => {
      if (this.compiled.size >= COMPILED_MAX) this.compiled.clear();
      if (!this.compiled.has(row.version)) this.compiled.set(row.version, compileTariffDocument(row.tariff_document));
      return this.compiled.get(row.version)!;
    });
  }
}

/** The only rate of the rating group settled by volume in the counter's scope; undefined when none or several. */
function volumeRule(tariff: CompiledTariffDocument, counter: Counter): CompiledRateRule | undefined {
  const rules = (tariff.rules.get(counter.ratingGroup) ?? []).filter((rule) => rule.tierScope === counter.scope && settlesByVolume(rule));
  return rules.length === 1 ? rules[0] : undefined;
}

// Usage of a customer read from the journal: units used and money charged per rating group, and
// per zone where asked (the zone that priced each report, as its event records it), from each
// usage item of its events (commits and one-shot charges; a reserve reports no usage). What statements and invoices
// both show, so both show the same. A window says which events: when they happened (by the
// service's clock), and for invoices also when they were journaled, so an event journaled after
// its period was invoiced goes onto the next invoice, late, and onto no invoice twice.
import type pg from 'pg';

export interface RatingGroupUsage {
  ratingGroup: number;
  /** Null when not grouped by zone, or for usage no zone priced. */
  zone: string | null;
  units: bigint;
  /** Of `units`, those allowances covered, at no cost. */
  allowanceUnits: bigint;
  amountMicros: bigint;
}

export interface UsageWindow {
  /** Inclusive; from the beginning when absent. */
  occurredFromMs?: number;
  /** Exclusive. */
  occurredBeforeMs: number;
  /** Exclusive; any time when absent. */
  journaledAfterMs?: number;
  /** Inclusive; any time when absent. */
  journaledUntilMs?: number;
}

/**
 * One row per rating group (and zone), checked against the journal's total over the same window,
 * read in the same scan: the lines of an invoice or statement add up to what the journal holds.
 */
export async function usageByRatingGroup(pool: pg.Pool, customerId: string, window: UsageWindow, byZone = false): Promise<RatingGroupUsage[]> {
  const zone = byZone ? "item->>'z'" : 'NULL::text';
  const { rows } = await pool.query<{ rating_group: number | null; zone: string | null; units: string | null; allowance: string | null; amount: string | null; total: number }>(
    `SELECT (item->>'rg')::integer AS rating_group, ${zone} AS zone, sum((item->>'used')::bigint) AS units,
            sum(coalesce((item->>'au')::bigint, 0)) AS allowance,
            sum(coalesce((item->>'cm')::bigint, 0)) AS amount, GROUPING((item->>'rg')::integer) AS total
     FROM journal_events e, jsonb_array_elements(e.data->'items') AS item
     WHERE e.customer_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND e.journaled_at > $4 AND e.journaled_at <= $5 AND (item->>'used')::bigint > 0
     GROUP BY GROUPING SETS (((item->>'rg')::integer, ${zone}), ())
     ORDER BY total, 1, 2 NULLS FIRST`,
    [customerId, new Date(window.occurredFromMs ?? 0), new Date(window.occurredBeforeMs),
      new Date(window.journaledAfterMs ?? 0), new Date(window.journaledUntilMs ?? 8.64e15)]);
  const total = rows.pop()!;
  const usage = rows.map((row) => ({
    ratingGroup: Number(row.rating_group), zone: row.zone, units: BigInt(row.units!), allowanceUnits: BigInt(row.allowance!), amountMicros: BigInt(row.amount!),
  }));
  const sum = (values: bigint[]) => values.reduce((left, right) => left + right, 0n);
  if (sum(usage.map((line) => line.units)) !== BigInt(total.units ?? 0) || sum(usage.map((line) => line.amountMicros)) !== BigInt(total.amount ?? 0)) {
    throw new Error(`usage of ${customerId}: the lines do not add up to the journal's total`);
  }
  return usage;
}

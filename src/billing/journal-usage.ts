// Usage of a customer over a span of time, read from the journal: units used and money charged
// per rating group, from each usage item of its events (commits and one-shot charges). What
// statements and invoices both show, so both show the same.
import type pg from 'pg';

export interface RatingGroupUsage {
  ratingGroup: number;
  units: bigint;
  amountMicros: bigint;
}

export async function usageByRatingGroup(pool: pg.Pool, customerId: string, startMs: number, endMs: number): Promise<RatingGroupUsage[]> {
  const { rows } = await pool.query<{ rating_group: number; units: string; amount: string }>(
    `SELECT (item->>'rg')::integer AS rating_group, sum(coalesce((item->>'used')::bigint, 0)) AS units,
            sum(coalesce((item->>'cm')::bigint, 0)) AS amount
     FROM journal_events e, jsonb_array_elements(e.data->'items') AS item
     WHERE e.customer_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND item ? 'used'
     GROUP BY 1 ORDER BY 1`,
    [customerId, new Date(startMs), new Date(endMs)]);
  return rows.map((row) => ({ ratingGroup: Number(row.rating_group), units: BigInt(row.units), amountMicros: BigInt(row.amount) }));
}

// Writes stream entries into the journal: one row per entry, keyed by its partition and stream
// id, in one transaction per batch. An entry already journaled (a redelivery after a crash
// between commit and acknowledgement) is skipped by its key.
import type pg from 'pg';
import { systemClock, type Clock } from '../clock.js';
import { inTransaction } from '../db/database.js';

/** One entry of a partition's event stream, as XREADGROUP returns it. */
export interface StreamEntry {
  partition: number;
  id: string;
  type: string;
  data: EventData;
}

/** The fields every event carries, as the scripts write them (integers as strings). */
export interface EventData {
  cus: string;
  dev?: string;
  sid?: string;
  eid?: string;
  tid?: string;
  /** The service's clock when the script ran, ms since the epoch. */
  now?: string;
  bal: string;
  held?: string;
  amount?: string;
  items?: { cm?: string; rm?: string }[];
}

/** Serialises the creation of month partitions between workers. */
const PARTITION_LOCK_ID = 7_433_003;

export class Journal {
  private readonly monthsReady = new Set<string>();

  constructor(
    private readonly pool: pg.Pool,
    /** Dates journaling by the service's clock, as events are: billing compares the two. */
    private readonly clock: Clock = systemClock,
  ) {}

  /** Writes the entries; returns how many were new. */
  write(entries: readonly StreamEntry[]): Promise<number> {
    return this.writeRows(entries.map((entry) => journalRow(entry, occurredAtMs(entry))));
  }

  /**
   * What the journal alone says of each customer's wallet: balance = top-ups − charges, and
   * held = the holds its events granted (gm) − those they released (rm).
   */
  async balances(customerIds: readonly string[]): Promise<Map<string, { balanceMicros: bigint; heldMicros: bigint }>> {
    const { rows } = await this.pool.query<{ customer_id: string; balance: string; held: string }>(
      `SELECT customer_id, sum(topped_up_micros) - sum(charged_micros) AS balance,
              coalesce(sum((SELECT sum(coalesce((item->>'gm')::bigint, 0) - coalesce((item->>'rm')::bigint, 0))
                            FROM jsonb_array_elements(data->'items') AS item)), 0) AS held
       FROM journal_events WHERE customer_id = ANY($1) GROUP BY customer_id`,
      [customerIds]);
    return new Map(rows.map((row) => [row.customer_id, { balanceMicros: BigInt(row.balance), heldMicros: BigInt(row.held) }]));
  }

  /** Units used of each allowance bucket, from the parts every usage names (`ab`), by customer. */
  async allowanceUsage(customerIds: readonly string[]): Promise<Map<string, Map<string, bigint>>> {
    const { rows } = await this.pool.query<{ customer_id: string; bucket: string; used: string }>(
      `SELECT e.customer_id, part->>0 AS bucket, sum((part->>1)::bigint) AS used
       FROM journal_events e, jsonb_array_elements(e.data->'items') AS item, jsonb_array_elements(item->'ab') AS part
       WHERE e.customer_id = ANY($1) AND jsonb_typeof(item->'ab') = 'array'
       GROUP BY e.customer_id, part->>0`,
      [customerIds]);
    const usage = new Map<string, Map<string, bigint>>();
    for (const row of rows) {
      const buckets = usage.get(row.customer_id) ?? new Map<string, bigint>();
      buckets.set(row.bucket, BigInt(row.used));
      usage.set(row.customer_id, buckets);
    }
    return usage;
  }

  /** Units paid with money per tier counter (`tu` on the events: "<owner>:<rg>:<YYYYMM>"), by customer. */
  async tierUsage(customerIds: readonly string[]): Promise<Map<string, Map<string, bigint>>> {
    const { rows } = await this.pool.query<{ customer_id: string; counter: string; units: string }>(
      `SELECT e.customer_id, item->>'tu' AS counter, sum((item->>'mu')::bigint) AS units
       FROM journal_events e, jsonb_array_elements(e.data->'items') AS item
       WHERE e.customer_id = ANY($1) AND item ? 'tu'
       GROUP BY e.customer_id, item->>'tu'`,
      [customerIds]);
    const usage = new Map<string, Map<string, bigint>>();
    for (const row of rows) usage.set(row.customer_id, (usage.get(row.customer_id) ?? new Map<string, bigint>()).set(row.counter, BigInt(row.units)));
    return usage;
  }

  /**
   * Records that a customer's wallet was restored from the journal: its balance, and the holds
   * voided (as a release of that much, so that the journal's holds add up to zero after it).
   */
  writeRebuild(customerId: string, balanceMicros: bigint, voidedHeldMicros: bigint, atMs: number): Promise<number> {
    const data: EventData = { cus: customerId, bal: balanceMicros.toString(), held: '0', items: [{ rm: voidedHeldMicros.toString() }] };
    // One per customer and run: keyed by both, so customers rebuilt in the same millisecond each get theirs.
    return this.writeRows([journalRow({ partition: -1, id: `rebuild:${atMs}:${customerId}`, type: 'rebuild', data }, atMs)]);
  }

  private async writeRows(rows: JournalRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    await this.ensureMonths(rows.map((row) => row.occurred_at));
    return inTransaction(this.pool, async (client) => {
      const result = await client.query(
        `INSERT INTO journal_events (occurred_at, stream_partition, stream_id, type, customer_id, device_id, session_id, event_id,
                                     charged_micros, topped_up_micros, balance_after_micros, held_after_micros, data, journaled_at)
         SELECT r.occurred_at, r.stream_partition, r.stream_id, r.type, r.customer_id, r.device_id, r.session_id, r.event_id,
                r.charged_micros, r.topped_up_micros, r.balance_after_micros, r.held_after_micros, r.data, $2
         FROM jsonb_to_recordset($1::jsonb) AS r(occurred_at timestamptz, stream_partition integer, stream_id text, type text,
           customer_id text, device_id text, session_id text, event_id text, charged_micros bigint, topped_up_micros bigint,
           balance_after_micros bigint, held_after_micros bigint, data jsonb)
         ON CONFLICT DO NOTHING`,
        [JSON.stringify(rows), new Date(this.clock.nowMs())]);
      return result.rowCount ?? 0;
    });
  }

  /** Creates the month partitions the rows fall in, once per process and month. */
  private async ensureMonths(instants: readonly string[]): Promise<void> {
    const months = [...new Set(instants.map((instant) => instant.slice(0, 7)))].filter((month) => !this.monthsReady.has(month));
    if (months.length === 0) return;
    await inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK_ID]);
      for (const month of months) await client.query(partitionDdl(month));
    });
    for (const month of months) this.monthsReady.add(month);
  }
}

/** "2026-11" → the CREATE TABLE of journal_events_2026_11, for [2026-11-01, 2026-12-01) UTC. */
function partitionDdl(month: string): string {
  const [year, monthNumber] = month.split('-').map(Number) as [number, number];
  const next = monthNumber === 12 ? `${year + 1}-01` : `${year}-${String(monthNumber + 1).padStart(2, '0')}`;
  return `CREATE TABLE IF NOT EXISTS journal_events_${year}_${String(monthNumber).padStart(2, '0')} PARTITION OF journal_events
          FOR VALUES FROM ('${month}-01T00:00:00Z') TO ('${next}-01T00:00:00Z')`;
}

type JournalRow = ReturnType<typeof journalRow>;

/**
 * When the change happened by the service's clock, which the script recorded (`now`); the
 * stream id's milliseconds, Redis's clock, for an event without it. Billing periods follow it.
 */
function occurredAtMs(entry: StreamEntry): number {
  const now = Number(entry.data.now);
  return Number.isSafeInteger(now) && now > 0 ? now : Number(entry.id.split('-')[0]);
}

function journalRow(entry: StreamEntry, occurredAtMs: number) {
  const { data } = entry;
  const charged = (data.items ?? []).reduce((total, item) => total + BigInt(item.cm ?? '0'), 0n);
  return {
    occurred_at: new Date(occurredAtMs).toISOString(),
    stream_partition: entry.partition,
    stream_id: entry.id,
    type: entry.type,
    customer_id: data.cus,
    device_id: data.dev ?? null,
    session_id: data.sid ?? null,
    event_id: data.eid ?? data.tid ?? null,
    // Only usage items charge (`cm`); an overshoot event has none: its commit already charged.
    charged_micros: charged.toString(),
    topped_up_micros: entry.type === 'top-up' ? (data.amount ?? '0') : '0',
    balance_after_micros: data.bal,
    held_after_micros: data.held ?? null,
    data,
  };
}

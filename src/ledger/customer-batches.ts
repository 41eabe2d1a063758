// What reconciling and rebuilding both do first and then for every customer: journal the events
// waiting in Redis, a bounded number of passes, and walk the customers in id order, a batch at a
// time.
import type pg from 'pg';
import type { LedgerWorker } from './ledger-worker.js';

const CUSTOMERS_PER_BATCH = 500;
/** Passes of the ledger at most: traffic that outruns them is left for the caller to see. */
const DRAIN_PASSES_MAX = 100;

export async function drainBacklog(ledger: LedgerWorker): Promise<void> {
  for (let pass = 0; pass < DRAIN_PASSES_MAX && (await ledger.drainOnce()) > 0; pass++);
}

export async function forEachCustomerBatch(pool: pg.Pool, work: (customerIds: string[]) => Promise<void>): Promise<void> {
  for (let after = ''; ;) {
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM customers WHERE id > $1 ORDER BY id LIMIT $2', [after, CUSTOMERS_PER_BATCH]);
    if (rows.length > 0) await work(rows.map((row) => row.id));
    if (rows.length < CUSTOMERS_PER_BATCH) return;
    after = rows[rows.length - 1]!.id;
  }
}

// Payments and credit notes write both stores: rows in PostgreSQL and a top-up of the wallet in
// Redis. They are all or nothing this way:
//   1. the validated request is committed as a pending top-up (nothing is owed or paid yet);
//   2. one transaction deletes it, writes the rows, then calls the top-up last: when Redis
//      refuses (BALANCE_LIMIT, ...), the rows roll back and the request is dropped, and when
//      Redis applies it, the commit makes the rows real;
//   3. a crash, a Redis outage or a failed commit between the two stores leaves the pending
//      row, and the finisher repeats step 2 with the same top-up id. Redis keeps the answer of
//      an applied top-up for IDEMPOTENCY_TTL_SECONDS, so a repeat never adds the money twice and
//      the stable answer decides whether the rows are written. A refusal is not kept, so the
//      same request can succeed later once its cause is gone.
import type pg from 'pg';
import type { ChargingService } from '../charging/charging-service.js';
import type { Clock } from '../clock.js';
import { inTransaction } from '../db/database.js';
import { AppError, type ErrorCode } from '../errors.js';

export type PendingKind = 'payment' | 'credit-note';

/** The wallet side of a two-store write; a test may wrap it to fail between the two stores. */
export type TopUps = Pick<ChargingService, 'topUp'>;

export interface PendingTopUp<Request> {
  topUpId: string;
  kind: PendingKind;
  customerId: string;
  request: Request;
}

export interface SettleSteps<Request, Result> {
  /** Writes the PostgreSQL rows; the caller holds the customer's row lock. Validation happened before step 1. */
  writeRows(client: pg.PoolClient, request: Request, receivedAt: Date): Promise<Result>;
  /** The idempotent Redis step, run last in the transaction. */
  topUp(request: Request): Promise<unknown>;
}

/** Step 1, in the caller's transaction (which holds the customer's row lock). */
export async function addPending<Request>(client: pg.PoolClient, pending: PendingTopUp<Request>, clock: Clock): Promise<void> {
  await client.query('INSERT INTO pending_top_ups (top_up_id, kind, customer_id, request, created_at) VALUES ($1, $2, $3, $4, $5)',
    [pending.topUpId, pending.kind, pending.customerId, JSON.stringify(pending.request), new Date(clock.nowMs())]);
}

/** The request pending under this top-up id, if any. */
export async function findPending<Request>(db: pg.Pool | pg.PoolClient, topUpId: string): Promise<Request | undefined> {
  const { rows } = await db.query<{ request: Request }>('SELECT request FROM pending_top_ups WHERE top_up_id = $1', [topUpId]);
  return rows[0]?.request;
}

/**
 * Step 2: writes the rows and tops up, both or neither. Resolves to the rows' result, or to
 * undefined when nothing is pending under this id (another caller finished it). Throws the
 * top-up's refusal after dropping the request; any other failure leaves it pending.
 */
export async function settlePending<Request, Result>(pool: pg.Pool, topUpId: string, steps: SettleSteps<Request, Result>): Promise<Result | undefined> {
  const customer = await pool.query<{ customer_id: string }>('SELECT customer_id FROM pending_top_ups WHERE top_up_id = $1', [topUpId]);
  if (customer.rows[0] === undefined) return undefined;
  let refusal: AppError | undefined;
  try {
    return await inTransaction(pool, async (client) => {
      // The customer's row first, as every change of its payments takes it; then the pending row,
      // whose DELETE also locks it, so two finishers of one request never both write the rows.
      await client.query('SELECT 1 FROM customers WHERE id = $1 FOR UPDATE', [customer.rows[0]!.customer_id]);
      const taken = await client.query<{ request: Request; created_at: Date }>('DELETE FROM pending_top_ups WHERE top_up_id = $1 RETURNING request, created_at', [topUpId]);
      if (taken.rows[0] === undefined) return undefined;
      const result = await steps.writeRows(client, taken.rows[0].request, taken.rows[0].created_at);
      await steps.topUp(taken.rows[0].request).catch((error: unknown) => {
        if (isRefusal(error)) refusal = error;
        throw error;
      });
      return result;
    });
  } catch (error) {
    // Only Redis's own refusal drops the request: it is a stable answer that nothing was added.
    if (refusal !== undefined) await pool.query('DELETE FROM pending_top_ups WHERE top_up_id = $1', [topUpId]);
    throw error;
  }
}

/**
 * Redis's own answer that it added nothing. An outage or a bug is not one: the top-up may yet
 * have been applied (see REDIS_UNAVAILABLE), so the request stays pending for the finisher.
 */
function isRefusal(error: unknown): error is AppError {
  return error instanceof AppError && !OUTCOME_UNKNOWN.has(error.code);
}

const OUTCOME_UNKNOWN: ReadonlySet<ErrorCode> = new Set(['REDIS_UNAVAILABLE', 'DATABASE_UNAVAILABLE', 'INTERNAL']);

export interface FinishReport {
  settled: number;
  refused: number;
  /** Pending longer than Redis keeps answers: left for an operator, as a repeat could add the money twice. */
  stale: number;
}

/** Step 3: repeats step 2 for every request left pending, oldest first, a bounded batch per pass. */
export class PendingTopUpFinisher {
  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: Clock,
    private readonly settlers: Record<PendingKind, (topUpId: string) => Promise<unknown>>,
    private readonly options: { batchMax: number; answerTtlMs: number },
  ) {}

  async finishDue(): Promise<FinishReport> {
    const oldestSafe = new Date(this.clock.nowMs() - this.options.answerTtlMs);
    const { rows } = await this.pool.query<{ top_up_id: string; kind: PendingKind }>(
      'SELECT top_up_id, kind FROM pending_top_ups WHERE created_at > $1 ORDER BY created_at, top_up_id LIMIT $2', [oldestSafe, this.options.batchMax]);
    const report: FinishReport = { settled: 0, refused: 0, stale: 0 };
    for (const row of rows) {
      try {
        await this.settlers[row.kind](row.top_up_id);
        report.settled++;
      } catch (error) {
        // A refusal is an answer; anything else (Redis down) ends the pass, the next one retries.
        if (!isRefusal(error)) throw error;
        report.refused++;
      }
    }
    const stale = await this.pool.query<{ count: string }>('SELECT count(*) AS count FROM pending_top_ups WHERE created_at <= $1', [oldestSafe]);
    report.stale = Number(stale.rows[0]!.count);
    return report;
  }
}

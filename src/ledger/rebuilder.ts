// Restores the balances of Redis from the journal after Redis lost its data: each customer's
// wallet gets the journal's balance and no holds, each allowance bucket the units the journal
// says were used and none held, and each tier counter the units the journal counted in it. The sessions whose holds are voided are gone with Redis; each
// voided hold is journaled, as a `rebuild` event, so the journal keeps adding up.
//
// An operator's tool for a Redis that came back empty: run it after the service has started
// again (which projects customers, devices and allowances anew) and before gateways return. It
// refuses while events still wait in Redis to be journaled, since the journal would not yet hold
// everything Redis did.
import type { Cluster, Redis } from 'ioredis';
import type pg from 'pg';
import type { KeySpace } from '../balance/keys.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { drainBacklog, forEachCustomerBatch } from './customer-batches.js';
import type { Journal } from './journal.js';
import type { LedgerWorker } from './ledger-worker.js';

/** As state.lua keeps them: a month and two more, for late reports. */
const TIER_COUNTER_TTL_SECONDS = 92 * 86400;

export interface RebuildReport {
  customers: number;
  /** Money that was held in Redis, by the journal, and is now released. */
  voided_held_micros: string;
}

export class Rebuilder {
  constructor(
    private readonly pool: pg.Pool,
    private readonly redis: Redis | Cluster,
    private readonly keys: KeySpace,
    private readonly journal: Journal,
    private readonly ledger: LedgerWorker,
    private readonly clock: Clock,
  ) {}

  async rebuild(): Promise<RebuildReport> {
    await drainBacklog(this.ledger);
    const backlog = await this.ledger.backlog(this.clock.nowMs());
    if (backlog.events > 0) throw new AppError('CONFLICT', `${backlog.events} events still wait in Redis to be journaled; rebuild once they are`);
    const report = { customers: 0, voided: 0n };
    await forEachCustomerBatch(this.pool, async (customerIds) => {
      report.voided += await this.restore(customerIds);
      report.customers += customerIds.length;
    });
    return { customers: report.customers, voided_held_micros: report.voided.toString() };
  }

  /** Returns the held money voided. */
  private async restore(customerIds: string[]): Promise<bigint> {
    const [balances, usage, buckets, tiers] = await Promise.all([
      this.journal.balances(customerIds), this.journal.allowanceUsage(customerIds), this.bucketsOf(customerIds), this.journal.tierUsage(customerIds),
    ]);
    let voided = 0n;
    for (const customerId of customerIds) {
      const { balanceMicros, heldMicros } = balances.get(customerId) ?? { balanceMicros: 0n, heldMicros: 0n };
      await this.restoreWallet(customerId, balanceMicros, buckets.get(customerId) ?? [], usage.get(customerId) ?? new Map(), tiers.get(customerId) ?? new Map());
      // Journaled after Redis is restored: a failure in between is mended by running it again.
      await this.journal.writeRebuild(customerId, balanceMicros, heldMicros, this.clock.nowMs());
      voided += heldMicros;
    }
    return voided;
  }

  /** Every allowance bucket of the customers, as PostgreSQL, the system of record, lists them. */
  private async bucketsOf(customerIds: string[]): Promise<Map<string, string[]>> {
    const { rows } = await this.pool.query<{ customer_id: string; ids: string[] }>(
      'SELECT customer_id, array_agg(id) AS ids FROM allowances WHERE customer_id = ANY($1) GROUP BY customer_id', [customerIds]);
    return new Map(rows.map((row) => [row.customer_id, row.ids]));
  }

  private async restoreWallet(customerId: string, balanceMicros: bigint, bucketIds: string[], bucketsUsed: Map<string, bigint>, tierUnits: Map<string, bigint>): Promise<void> {
    const keys = bucketIds.map((id) => this.keys.allowance(customerId, id));
    const exists = bucketIds.length === 0 ? [] : await Promise.all(keys.map((key) => this.redis.exists(key)));
    const pipeline = this.redis.pipeline().hset(this.keys.wallet(customerId), 'balance', balanceMicros.toString(), 'held', '0');
    // Only buckets the projection wrote again: a bucket key must never exist without its definition.
    bucketIds.forEach((id, index) => {
      if (exists[index] === 1) pipeline.hset(keys[index]!, 'used', (bucketsUsed.get(id) ?? 0n).toString(), 'held', '0');
    });
    for (const [counter, units] of tierUnits) pipeline.set(this.keys.tierCounter(customerId, counter), units.toString(), 'EX', TIER_COUNTER_TTL_SECONDS);
    const results = (await pipeline.exec()) ?? [];
    for (const [error] of results) if (error) throw error;
  }
}

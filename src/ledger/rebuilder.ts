// Restores the balances of Redis from the journal after Redis lost its data: each customer's
// wallet gets the journal's balance and no holds, each allowance bucket the units the journal
// says were used and none held, and each tier counter the units the journal counted in it. The sessions whose holds are voided are gone with Redis; each
// voided hold is journaled, as a `rebuild` event, so the journal keeps adding up.
//
// An operator's tool for a Redis that came back empty: run it after the service has started
// again (which projects customers, devices and allowances anew) and before gateways return. It
// refuses while events still wait in Redis to be journaled, since the journal would not yet hold
// everything Redis did. It refuses while charging traffic flows, too: it overwrites balances
// and voids holds, so under live traffic it would void holds gateways still use and lose the
// changes made between reading the journal and writing Redis.
import type { Cluster, Redis } from 'ioredis';
import type pg from 'pg';
import type { KeySpace } from '../balance/keys.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { drainBacklog, forEachCustomerBatch } from './customer-batches.js';
import type { Journal } from './journal.js';
import type { LedgerWorker } from './ledger-worker.js';

/**
 * Charging counts as flowing while any partition wrote an event this recently, by Redis's own
 * clock (stream ids carry it): longer than any gateway waits between the calls of a session.
 */
const QUIET_BEFORE_REBUILD_MS = 60_000;

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
    /** How long no partition may have changed a balance before a rebuild runs. */
    private readonly quietMs = QUIET_BEFORE_REBUILD_MS,
  ) {}

  async rebuild(): Promise<RebuildReport> {
    await this.refuseWhileCharging();
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

  private async refuseWhileCharging(): Promise<void> {
    const { openReservations, lastEventAgeMs } = await this.chargingTraffic();
    if (openReservations > 0) {
      throw new AppError('CHARGING_IN_PROGRESS', `charging traffic is flowing: ${openReservations} reservations are open; rebuild is for a Redis that lost its data, run it with the gateways stopped`);
    }
    if (lastEventAgeMs < this.quietMs) {
      throw new AppError('CHARGING_IN_PROGRESS', `charging traffic is flowing: a balance changed ${lastEventAgeMs} ms ago; rebuild is for a Redis that lost its data, run it with the gateways stopped`);
    }
  }

  /** Reservations open in every partition's expiry index, and the age of the newest event. */
  private async chargingTraffic(): Promise<{ openReservations: number; lastEventAgeMs: number }> {
    const [seconds, micros] = await this.redis.time();
    const redisNowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    let openReservations = 0;
    let lastEventMs = 0;
    for (let partition = 0; partition < this.keys.partitionCount; partition++) {
      openReservations += await this.redis.zcard(this.keys.expiryIndex(partition));
      lastEventMs = Math.max(lastEventMs, await this.lastEventMs(partition));
    }
    return { openReservations, lastEventAgeMs: redisNowMs - lastEventMs };
  }

  /** When the partition last wrote an event (0: never): its stream's last id outlives trimming. */
  private async lastEventMs(partition: number): Promise<number> {
    const stream = this.keys.stream(partition);
    if ((await this.redis.exists(stream)) === 0) return 0;
    const info = (await this.redis.xinfo('STREAM', stream)) as unknown[];
    const lastId = String(info[info.indexOf('last-generated-id') + 1]);
    return Number(lastId.split('-')[0]);
  }

  /** Returns the held money voided. */
  private async restore(customerIds: string[]): Promise<bigint> {
    const [balances, usage, buckets, tiers] = await Promise.all([
      this.journal.balances(customerIds), this.journal.allowanceUsage(customerIds), this.bucketsOf(customerIds), this.journal.tierUsage(customerIds),
    ]);
    // The journal's holds go below zero only when it saw a release before its grant: events
    // still arriving. Voiding that would journal a negative release; refuse before any write.
    for (const [customerId, { heldMicros }] of balances) {
      if (heldMicros < 0n) throw new AppError('CHARGING_IN_PROGRESS', `charging traffic is flowing: the journal holds ${heldMicros} micros for ${customerId}, events are still arriving`);
    }
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

// Proves that Redis and the journal agree: for every customer, the wallet's balance must equal
// top-ups − charges and its held money must equal the holds granted − the holds released, both
// read from the journal alone. The streams are journaled first; a customer with events still on
// its way (traffic during the check) is reported as in flight rather than as a difference.
import type { Cluster, Redis } from 'ioredis';
import type pg from 'pg';
import type { KeySpace } from '../balance/keys.js';
import { drainBacklog, forEachCustomerBatch } from './customer-batches.js';
import type { Journal } from './journal.js';
import type { LedgerWorker } from './ledger-worker.js';

export interface CustomerReconciliation {
  customer_id: string;
  redis: { balance_micros: string; held_micros: string };
  journal: { balance_micros: string; held_micros: string };
  /** Some of its events were not journaled yet when it was compared. */
  in_flight: boolean;
}

export interface Reconciliation {
  customers: number;
  /** Customers whose Redis and journal differ, or that were in flight. */
  differences: CustomerReconciliation[];
}

const STREAM_SCAN_MAX = 100_000;

export class Reconciler {
  constructor(
    private readonly pool: pg.Pool,
    private readonly redis: Redis | Cluster,
    private readonly keys: KeySpace,
    private readonly journal: Journal,
    private readonly ledger: LedgerWorker,
  ) {}

  async reconcile(): Promise<Reconciliation> {
    await drainBacklog(this.ledger);
    const report: Reconciliation = { customers: 0, differences: [] };
    await forEachCustomerBatch(this.pool, async (customerIds) => {
      const compared = await this.compare(customerIds);
      report.customers += compared.length;
      const inFlight = await this.customersInFlight();
      for (const customer of compared) {
        customer.in_flight = inFlight.has(customer.customer_id);
        if (customer.in_flight || !agrees(customer)) report.differences.push(customer);
      }
    });
    return report;
  }

  private async compare(customerIds: string[]): Promise<CustomerReconciliation[]> {
    const journal = await this.journal.balances(customerIds);
    // One command per wallet, not one pipeline: on a Redis Cluster the wallets live in many slots.
    const wallets = await Promise.all(customerIds.map((id) => this.redis.hmget(this.keys.wallet(id), 'balance', 'held')));
    return customerIds.map((id, index) => {
      const [balance, held] = wallets[index]!;
      return {
        customer_id: id,
        redis: { balance_micros: balance ?? '0', held_micros: held ?? '0' },
        journal: { balance_micros: String(journal.get(id)?.balanceMicros ?? 0n), held_micros: String(journal.get(id)?.heldMicros ?? 0n) },
        in_flight: false,
      };
    });
  }

  /** Customers with an event still in a stream, journaled or not: the streams hold little once drained. */
  private async customersInFlight(): Promise<Set<string>> {
    const customers = new Set<string>();
    for (let partition = 0; partition < this.keys.partitionCount; partition++) {
      const entries = (await this.redis.xrange(this.keys.stream(partition), '-', '+', 'COUNT', STREAM_SCAN_MAX)) as [string, string[]][];
      for (const [, fields] of entries) customers.add((JSON.parse(fields[3] ?? '{}') as { cus?: string }).cus ?? '');
    }
    return customers;
  }
}

function agrees(customer: CustomerReconciliation): boolean {
  return customer.redis.balance_micros === customer.journal.balance_micros && customer.redis.held_micros === customer.journal.held_micros;
}

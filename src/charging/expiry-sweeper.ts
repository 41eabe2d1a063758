// Releases reservations nobody committed or released in time. It walks every partition, a
// bounded batch per script call and a bounded number of calls per partition per sweep, so one
// sweep never blocks Redis for long; what is left waits for the next sweep. Because the
// expiry index lives in Redis, a service that was down catches up when it starts.
import type { BalanceStore } from '../balance/balance-store.js';
import type { Clock } from '../clock.js';
import { Periodic } from '../infra/periodic.js';

export interface SweepSettings {
  partitionCount: number;
  batchMax: number;
  intervalMs: number;
  sessionTtlSeconds: number;
}

const BATCHES_PER_PARTITION_MAX = 20;

export class ExpirySweeper {
  private readonly periodic: Periodic;

  constructor(
    private readonly store: BalanceStore,
    private readonly clock: Clock,
    private readonly settings: SweepSettings,
    onError: (error: unknown) => void = () => {},
  ) {
    this.periodic = new Periodic(() => this.sweepOnce(), settings.intervalMs, onError);
  }

  /** One pass over every partition; returns the reservations' index entries handled. */
  async sweepOnce(): Promise<number> {
    let handled = 0;
    for (let partition = 0; partition < this.settings.partitionCount; partition++) {
      for (let batch = 0; batch < BATCHES_PER_PARTITION_MAX; batch++) {
        const count = await this.store.expire(partition, this.clock.nowMs(), this.settings.batchMax, this.settings.sessionTtlSeconds);
        handled += count;
        if (count < this.settings.batchMax) break;
      }
    }
    return handled;
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }
}

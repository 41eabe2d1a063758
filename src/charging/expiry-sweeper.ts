// Releases reservations nobody committed or released in time. It walks every partition, a
// bounded batch per script call and a bounded number of calls per partition per sweep, so one
// sweep never blocks Redis for long; what is left waits for the next sweep. Because the
// expiry index lives in Redis, a service that was down catches up when it starts.
import type { BalanceStore } from '../balance/balance-store.js';
import type { Clock } from '../clock.js';

export interface SweepSettings {
  partitionCount: number;
  batchMax: number;
  intervalMs: number;
  sessionTtlSeconds: number;
}

const BATCHES_PER_PARTITION_MAX = 20;

export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly store: BalanceStore,
    private readonly clock: Clock,
    private readonly settings: SweepSettings,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

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
    const tick = () => {
      this.running = this.sweepOnce().catch((error: unknown) => {
        this.onError(error);
        return 0;
      });
      void this.running.then(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.settings.intervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

// Runs a background task every interval, one run at a time: the next run is scheduled when the
// previous one ends, so a slow run never piles up behind itself. stop() waits for a run in
// progress. Failures go to onError and the task runs again at the next interval.
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly task: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    const tick = () => {
      this.running = this.task().then(() => undefined, (error: unknown) => this.onError(error));
      void this.running.then(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.intervalMs);
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

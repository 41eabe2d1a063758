// Load generators run in child processes, so the client is never the one core that limits a
// measurement. Both the gRPC and the HTTP generator use this: the parent forks one process per
// share, waits until every one has connected and warmed up, starts them together so they
// measure the same window, and collects their reports. Each worker runs serveWorker().
import { fork, type ChildProcess } from 'node:child_process';

export type ParentMessage<Options> = { type: 'run'; options: Options } | { type: 'start' };
export type WorkerMessage<Report> = { type: 'ready' } | { type: 'report'; report: Report } | { type: 'failed'; message: string };

/**
 * Lets the caller sample the server side (CPU, Redis INFO…) over the same window. Started: just
 * after every process is warmed up and told to go; ended: once every process has reported.
 */
export interface LoadObserver {
  measuredPhaseStarted?(): void;
  measuredPhaseEnded?(): void;
}

export interface WorkerFleetOptions<Options> {
  /** The compiled worker module, e.g. new URL('./load-worker.js', import.meta.url). */
  workerUrl: URL;
  label: string;
  /** One entry per process. */
  optionsPerWorker: readonly Options[];
  /** Bounds the whole wait: a worker that hangs must not hang the bench. */
  timeoutMs: number;
}

const workerExitGraceMs = 5_000;

/** Runs one worker per options entry and resolves with their reports, in the same order. */
export async function runInWorkers<Options, Report>(fleet: WorkerFleetOptions<Options>, observer: LoadObserver = {}): Promise<Report[]> {
  const children = fleet.optionsPerWorker.map(() =>
    fork(fleet.workerUrl, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  let succeeded = false;
  try {
    const workers = children.map((child, index) => new WorkerHandle<Options, Report>(child, fleet.optionsPerWorker[index]!, `${fleet.label} ${index}`, fleet.timeoutMs));
    await Promise.all(workers.map((worker) => worker.ready));
    for (const worker of workers) worker.start();
    observer.measuredPhaseStarted?.();
    const reports = await Promise.all(workers.map((worker) => worker.report));
    observer.measuredPhaseEnded?.();
    succeeded = true;
    return reports;
  } finally {
    // Workers exit by themselves once they have reported; after a failure the others are stopped.
    await Promise.all(children.map((child) => exitWithin(child, succeeded ? workerExitGraceMs : 0)));
  }
}

/** Worker `index`'s part of `total`, as even as integers allow; the first workers take the rest. */
export function shareOf(total: number, workerCount: number, index: number): number {
  return Math.floor(total / workerCount) + (index < total % workerCount ? 1 : 0);
}

function exitWithin(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill(), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

class WorkerHandle<Options, Report> {
  /** Settles when the worker has connected and warmed up, or has failed. */
  readonly ready: Promise<void>;
  readonly report: Promise<Report>;

  constructor(
    private readonly child: ChildProcess,
    options: Options,
    label: string,
    timeoutMs: number,
  ) {
    let resolveReady!: () => void;
    const announced = new Promise<void>((resolve) => (resolveReady = resolve));
    this.report = new Promise<Report>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label} timed out after ${timeoutMs} ms`)), timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      child.on('message', (message: WorkerMessage<Report>) => {
        if (message.type === 'ready') resolveReady();
        else if (message.type === 'failed') fail(new Error(`${label}: ${message.message}`));
        else {
          clearTimeout(timer);
          resolve(message.report);
        }
      });
      child.on('error', fail);
      child.on('exit', (code, signal) => fail(new Error(`${label} exited (${signal ?? code}) before reporting`)));
    });
    // When another worker fails first, nobody awaits this report any more: not an unhandled rejection.
    this.report.catch(() => undefined);
    this.ready = Promise.race([announced, this.report.then(() => undefined)]);
    child.send({ type: 'run', options } satisfies ParentMessage<Options>);
  }

  start(): void {
    this.child.send({ type: 'start' } satisfies ParentMessage<Options>);
  }
}

// ---------------------------------------------------------------------------------------------
// The worker's side

/**
 * The body of a worker process: receives its options, runs `work`, which calls `waitForStart`
 * once connected and warmed up, and sends back the report (or the failure).
 */
export function serveWorker<Options, Report>(name: string, work: (options: Options, waitForStart: () => Promise<void>) => Promise<Report>): void {
  let reported = false;
  // A parent that dies (or is stopped) without telling us: stop at once rather than load a
  // server nobody measures any more. After the report, the disconnect is this process's own.
  process.once('disconnect', () => {
    if (!reported) process.exit(1);
  });
  const main = async () => {
    if (process.send === undefined) throw new Error(`${name} runs only as a forked bench worker`);
    // Listen for 'start' before announcing readiness, so it cannot be missed.
    const started = nextMessage<Options>('start');
    const run = (await nextMessage<Options>('run')) as { options: Options };
    const report = await work(run.options, async () => {
      await send<Report>({ type: 'ready' });
      await started;
    });
    reported = true;
    await send<Report>({ type: 'report', report });
  };
  main()
    .catch(async (error: unknown) => {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      if (process.send !== undefined) await send<Report>({ type: 'failed', message }).catch(() => undefined);
      else console.error(message);
      process.exitCode = 1;
    })
    .finally(() => process.disconnect?.());
}

function send<Report>(message: WorkerMessage<Report>): Promise<void> {
  return new Promise((resolve, reject) => process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve())));
}

function nextMessage<Options>(type: ParentMessage<Options>['type']): Promise<ParentMessage<Options>> {
  return new Promise((resolve) => {
    const onMessage = (message: ParentMessage<Options>) => {
      if (message.type !== type) return;
      process.off('message', onMessage);
      resolve(message);
    };
    process.on('message', onMessage);
  });
}

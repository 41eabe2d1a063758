// Keeps the service's private redis-server running. If it exits while the service runs (killed,
// out of memory), it is started again on the same files and the same port, so the service's
// Redis client reconnects by itself, as it does when an external Redis comes back. Restarts are
// bounded: a server that keeps dying at once (a damaged AOF, a full disk) is given up on, and the
// service keeps answering 503 with the reason in its log.
import { setTimeout as sleep } from 'node:timers/promises';
import { startRedisServer, type RedisServerHandle, type RedisServerOptions } from './redis-server.js';

export interface RedisSupervisorEvents {
  exited(pid: number): void;
  restarted(pid: number): void;
  restartFailed(error: unknown, attempt: number): void;
  gaveUp(restartsInARow: number): void;
}

export interface SupervisedRedisServer {
  readonly url: string;
  readonly port: number;
  /** The pid of the server running now; it changes with each restart. */
  readonly pid: number;
  /** Stops supervising, then stops the server. */
  stop(): Promise<void>;
}

const restartsInARowMax = 10;
const restartBackoffFirstMs = 100;
const restartBackoffMaxMs = 5_000;
/** A server that stayed up this long was not crash-looping: its next exit starts the count anew. */
const stableUptimeMs = 60_000;

export async function superviseRedisServer(options: RedisServerOptions, events: RedisSupervisorEvents): Promise<SupervisedRedisServer> {
  let current = await startRedisServer(options);
  const port = current.port;
  let stopping = false;
  let restartsInARow = 0;
  let restarting: Promise<void> = Promise.resolve();

  const restart = async (): Promise<void> => {
    for (let attempt = 1; !stopping && restartsInARow < restartsInARowMax; attempt++) {
      restartsInARow++;
      await sleep(backoffMs(restartsInARow));
      if (stopping) return;
      try {
        current = await startRedisServer({ ...options, port });
        events.restarted(current.pid);
        watch(current);
        return;
      } catch (error) {
        events.restartFailed(error, attempt);
      }
    }
    if (!stopping) events.gaveUp(restartsInARow);
  };
  const watch = (server: RedisServerHandle): void => {
    const startedAt = Date.now();
    void server.exited.then(() => {
      if (stopping) return;
      events.exited(server.pid);
      if (Date.now() - startedAt >= stableUptimeMs) restartsInARow = 0;
      restarting = restart();
    });
  };
  watch(current);

  const stop = async (): Promise<void> => {
    stopping = true;
    await restarting;
    await current.stop();
  };
  return { url: current.url, port, get pid() { return current.pid; }, stop };
}

function backoffMs(restartsInARow: number): number {
  return Math.min(restartBackoffFirstMs * 2 ** (restartsInARow - 1), restartBackoffMaxMs);
}

// One Redis connection (or Cluster client) for the service. Charging must fail fast when Redis
// is away, so a gateway can apply its own failure handling: no offline queue, one retry for a
// command whose connection dropped (safe, since every script is idempotent), a command
// timeout, and reconnection forever in the background.
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export interface RedisTarget {
  url?: string;
  clusterNodes?: readonly { host: string; port: number }[];
}

const COMMAND_TIMEOUT_MS = 2000;

const commonOptions: RedisOptions = {
  // Commands issued in the same tick go out in one write: under load most of a call's cost
  // is otherwise the socket write itself.
  enableAutoPipelining: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 2000,
  commandTimeout: COMMAND_TIMEOUT_MS,
  retryStrategy: (attempt) => Math.min(50 * attempt, 2000),
};

export function connectRedis(target: RedisTarget, options: RedisOptions = {}): Redis | Cluster {
  if (target.clusterNodes !== undefined) {
    return new Cluster([...target.clusterNodes], {
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      redisOptions: { ...commonOptions, ...options },
      clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    });
  }
  return new Redis(target.url ?? 'redis://127.0.0.1:6379', { ...commonOptions, ...options });
}

/** Resolves once the client is ready, or rejects after `timeoutMs`. */
export function whenReady(client: Redis | Cluster, timeoutMs = 15_000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis was not ready within ${timeoutMs} ms`)), timeoutMs);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

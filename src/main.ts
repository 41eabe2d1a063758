// The service process. With nothing configured it starts its own Redis (append-only file on)
// and an embedded PostgreSQL under DATA_DIR, so `npm start` works on a bare machine; with
// REDIS_URL / REDIS_CLUSTER_NODES / DATABASE_URL it uses those instead.
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { startApp } from './app.js';
import { connectRedis, whenReady, type RedisTarget } from './balance/redis-connection.js';
import { loadConfig, type Config } from './config.js';
import { createPool } from './db/database.js';
import { lockDataDirectory } from './infra/data-directory-lock.js';
import { startEmbeddedPostgres } from './infra/embedded-postgres.js';
import { superviseRedisServer, type RedisSupervisorEvents } from './infra/redis-supervisor.js';

type Cleanup = () => Promise<void>;

async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.logLevel });
  const cleanups: Cleanup[] = [];
  let running: Running;
  try {
    running = await startService(config, log, cleanups);
  } catch (error) {
    // A start that fails halfway stops the private servers it began and frees DATA_DIR.
    await runCleanups(cleanups).catch(() => undefined);
    throw error;
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await running.app.close();
    await runCleanups(cleanups);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

interface Running {
  app: Awaited<ReturnType<typeof startApp>>;
}

async function startService(config: Config, log: pino.Logger, cleanups: Cleanup[]): Promise<Running> {
  if (usesPrivateServers(config)) {
    // Taken before any private server starts, so the servers found on these files after a crash
    // are known to be orphans, and a second live service on the same DATA_DIR is refused.
    const lock = await lockDataDirectory(resolve(config.dataDirectory));
    cleanups.push(() => lock.release());
  }
  const redisTarget = await redisTargetFor(config, cleanups, log);
  const databaseUrl = await databaseUrlFor(config, cleanups, log);
  const redis = connectRedis(redisTarget);
  redis.on('error', (error: Error) => log.warn({ err: error.message }, 'Redis connection error; reconnecting'));
  cleanups.push(async () => redis.disconnect());
  await whenReady(redis);
  const pool = createPool(databaseUrl, config.databaseSchema);
  cleanups.push(() => pool.end());
  const app = await startApp({ config, redis, pool, logger: log, benchNoopEnabled: process.env['BENCH_NOOP_ENABLED'] === 'true' });
  log.info({ grpc: `${config.grpcHost}:${app.grpcPort}`, http: `http://${config.httpHost}:${app.httpPort}` }, 'Io Billing is listening');
  return { app };
}

/** Newest first: the connections, then the servers, then the DATA_DIR lock. */
async function runCleanups(cleanups: Cleanup[]): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

function usesPrivateServers(config: Config): boolean {
  const privateRedis = config.redisClusterNodes === undefined && config.redisUrl === undefined;
  return privateRedis || config.databaseUrl === undefined;
}

async function redisTargetFor(config: Config, cleanups: Cleanup[], log: pino.Logger): Promise<RedisTarget> {
  if (config.redisClusterNodes !== undefined) return { clusterNodes: config.redisClusterNodes };
  if (config.redisUrl !== undefined) return { url: config.redisUrl };
  const directory = resolve(join(config.dataDirectory, 'redis'));
  const server = await superviseRedisServer({ directory, appendOnly: true, appendFsync: 'always' }, redisEvents(log));
  cleanups.push(() => server.stop());
  log.info({ url: server.url, redisPid: server.pid }, 'started a private redis-server (no REDIS_URL given)');
  return { url: server.url };
}

function redisEvents(log: pino.Logger): RedisSupervisorEvents {
  return {
    exited: (pid) => log.error({ redisPid: pid }, 'the private redis-server exited; starting it again on the same files'),
    restarted: (pid) => log.info({ redisPid: pid }, 'the private redis-server runs again'),
    restartFailed: (error, attempt) => log.error({ err: error, attempt }, 'starting the private redis-server again failed'),
    gaveUp: (restarts) => log.error({ restarts }, 'the private redis-server keeps failing; no more restarts: restart the service once it is fixed'),
  };
}

async function databaseUrlFor(config: Config, cleanups: Cleanup[], log: pino.Logger): Promise<string> {
  if (config.databaseUrl !== undefined) return config.databaseUrl;
  const directory = resolve(join(config.dataDirectory, 'postgres'));
  const server = await startEmbeddedPostgres({ directory });
  cleanups.push(() => server.stop());
  if (server.dataDirectory !== directory) {
    log.warn({ asked: directory, dataDirectory: server.dataDirectory },
      'the postgres user cannot enter DATA_DIR, so the embedded PostgreSQL keeps its data in a folder of its own; its folders are left as they are');
  }
  log.info({ postgresPid: server.pid, dataDirectory: server.dataDirectory }, 'started an embedded PostgreSQL (no DATABASE_URL given)');
  return server.url;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exit(1);
});

// What one bench run measures against, started privately and removed afterwards:
//
// - a redis-server of its own, without persistence, so Redis's cost is the scripts' alone;
// - PostgreSQL: DATABASE_URL when set, else a local server at 127.0.0.1:5432 when one answers,
//   else an embedded one in a temporary directory; always in a schema of its own;
// - the service as a child process (node dist/src/main.js), as it runs in production: its own
//   event loop and core, never sharing one with the load generator.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { findPostgres, type FoundPostgres, type PostgresSource } from '../src/infra/find-postgres.js';
import { freePort } from '../src/infra/free-port.js';
import { redisServerAvailable, startRedisServer, type RedisServerHandle } from '../src/infra/redis-server.js';

// Compiled into dist/bench/, so the repository root is two levels up.
const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
const serviceEntryPoint = join(repositoryRoot, 'dist', 'src', 'main.js');

const databaseProbeTimeoutMs = 2_000;
const healthTimeoutMs = 30_000;
const healthIntervalMs = 100;
const serviceStopTimeoutMs = 10_000;
const serviceOutputCharactersMax = 16_384;

/**
 * Cleanup steps, run last-in first-out; a failing step does not stop the others. Every caller
 * of runAll (the normal end, a signal, the watchdog) waits for the same single pass.
 */
export class Cleanups {
  private readonly steps: { label: string; run: () => Promise<void> }[] = [];
  private running: Promise<void> | undefined;

  add(label: string, run: () => Promise<void>): void {
    this.steps.push({ label, run });
  }

  runAll(): Promise<void> {
    this.running ??= this.runSteps();
    return this.running;
  }

  private async runSteps(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.run();
      } catch (error) {
        console.error(`cleanup "${step.label}" failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

export interface BenchEnvironment {
  /** Short, unique per run: part of the schema, the key prefix and every session id. */
  runId: string;
  redis: RedisServerHandle;
  databaseUrl: string;
  databaseSource: PostgresSource;
  databaseSchema: string;
  redisKeyPrefix: string;
  partitionCount: number;
  service: ServiceProcess;
}

export interface EnvironmentOptions {
  partitionCount: number;
  /** 'auto': DATABASE_URL, else a local server, else embedded; 'embedded' skips the first two. */
  postgres: 'auto' | 'embedded';
}

export async function startEnvironment(options: EnvironmentOptions, cleanups: Cleanups): Promise<BenchEnvironment> {
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  if (!redisServerAvailable()) throw new Error('the bench starts its own Redis: install redis-server (7+) on the PATH');
  const redis = await startRedisServer({ appendOnly: false });
  cleanups.add('redis-server', () => redis.stop());
  const database = await findDatabase(options.postgres, cleanups);
  const databaseSchema = `bench_${runId}`;
  cleanups.add('database schema', () => dropSchema(database.url, databaseSchema));
  const redisKeyPrefix = `bench-${runId}:`;
  const service = await startService(
    {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redisKeyPrefix,
      DATABASE_URL: database.url,
      DATABASE_SCHEMA: databaseSchema,
      PARTITION_COUNT: String(options.partitionCount),
    },
    cleanups,
  );
  return {
    runId, redis, databaseUrl: database.url, databaseSource: database.source, databaseSchema, redisKeyPrefix,
    partitionCount: options.partitionCount, service,
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

async function findDatabase(choice: EnvironmentOptions['postgres'], cleanups: Cleanups): Promise<FoundPostgres> {
  const database = await findPostgres({ useExisting: choice === 'auto', purpose: 'io-billing-bench' });
  cleanups.add(database.source, () => database.release());
  return database;
}

async function dropSchema(connectionString: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: databaseProbeTimeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// The service

export interface ServiceProcess {
  pid: number;
  /** host:port */
  grpcTarget: string;
  /** http://host:port */
  httpUrl: string;
  /** Throws when the service has exited: a measurement after that would be meaningless. */
  assertRunning(): void;
}

async function startService(environment: Record<string, string>, cleanups: Cleanups): Promise<ServiceProcess> {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [serviceEntryPoint], {
    cwd: repositoryRoot,
    env: {
      ...process.env,
      // A cluster or an admin token from the caller's shell would change what is measured.
      REDIS_CLUSTER_NODES: '',
      ADMIN_TOKEN: '',
      ...environment,
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(grpcPort),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      BENCH_NOOP_ENABLED: 'true',
      // The online path is measured alone: journaling the events competes for the same two cores
      // and belongs to a benchmark of its own.
      LEDGER_ENABLED: 'false',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = captureOutput(child);
  cleanups.add('service', () => stopChild(child));
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const describeExit = () =>
    `the service exited (${child.signalCode ?? child.exitCode}); its last output:\n${output.text.trim() || '(none)'}`;
  await waitForHealth(httpUrl, () => (exited() || output.spawnError !== undefined ? describeExit() : undefined));
  if (child.pid === undefined) throw new Error('the service has no pid');
  return {
    pid: child.pid,
    grpcTarget: `127.0.0.1:${grpcPort}`,
    httpUrl,
    assertRunning: () => {
      if (exited()) throw new Error(describeExit());
    },
  };
}

interface Output {
  text: string;
  spawnError: Error | undefined;
}

/** Keeps the tail of the service's output: warnings are worth showing when something fails. */
function captureOutput(child: ChildProcess): Output {
  const output: Output = { text: '', spawnError: undefined };
  const append = (chunk: Buffer) => {
    output.text = (output.text + chunk.toString('utf8')).slice(-serviceOutputCharactersMax);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.once('error', (error) => {
    output.spawnError = error;
  });
  return output;
}

async function waitForHealth(httpUrl: string, failure: () => string | undefined): Promise<void> {
  const deadlineMs = Date.now() + healthTimeoutMs;
  while (Date.now() < deadlineMs) {
    const reason = failure();
    if (reason !== undefined) throw new Error(reason);
    try {
      const response = await fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(healthIntervalMs);
  }
  throw new Error(`the service did not answer ${httpUrl}/healthz within ${healthTimeoutMs} ms`);
}

/** SIGTERM (the service shuts down gracefully), then SIGKILL if it has not exited in time. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), serviceStopTimeoutMs);
  await exited;
  clearTimeout(timer);
}

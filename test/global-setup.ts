// Runs once per `vitest run`, before any test file: one Redis and one PostgreSQL shared by all
// files. Files run in parallel and keep apart by key prefix and schema (see support/context.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../src/infra/embedded-postgres.js';
import { redisServerAvailable, startRedisServer } from '../src/infra/redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    databaseUrl: string;
  }
}

const localDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/test';
const localProbeTimeoutMs = 2000;

type Teardown = () => Promise<void>;

export default async function setup(project: TestProject): Promise<Teardown> {
  const teardowns: Teardown[] = [];
  const teardown = async (): Promise<void> => {
    for (const step of teardowns.reverse()) await step();
  };
  try {
    project.provide('redisUrl', await startPrivateRedis(teardowns));
    project.provide('databaseUrl', await findDatabase(teardowns));
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

/**
 * Always a private server, never the machine's Redis: tests may kill, restart or fill it, and
 * nothing else should share it. No persistence, since nothing must survive the run.
 */
async function startPrivateRedis(teardowns: Teardown[]): Promise<string> {
  if (!redisServerAvailable()) {
    throw new Error('The integration tests start their own Redis: install redis-server (7+) on the PATH');
  }
  const server = await startRedisServer({});
  teardowns.push(() => server.stop());
  return server.url;
}

/** An explicit DATABASE_URL wins; then a local PostgreSQL; then an embedded one, so CI needs nothing. */
async function findDatabase(teardowns: Teardown[]): Promise<string> {
  const configured = process.env['DATABASE_URL'];
  if (configured !== undefined && configured.trim() !== '') return configured;
  if (await canConnect(localDatabaseUrl)) return localDatabaseUrl;
  const directory = await mkdtemp(join(tmpdir(), 'io-billing-test-postgres-'));
  teardowns.push(() => rm(directory, { recursive: true, force: true }));
  const server = await startEmbeddedPostgres({ directory: join(directory, 'data') });
  teardowns.push(() => server.stop());
  return server.url;
}

async function canConnect(connectionString: string): Promise<boolean> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: localProbeTimeoutMs });
  // A failed connect can still emit 'error' later; without a listener that would crash the run.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

// Runs once per `vitest run`, before any test file: one Redis and one PostgreSQL shared by all
// files. Files run in parallel and keep apart by key prefix and schema (see support/context.ts).
import type { TestProject } from 'vitest/node';
import { findPostgres } from '../src/infra/find-postgres.js';
import { redisServerAvailable, startRedisServer } from '../src/infra/redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    databaseUrl: string;
  }
}

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

async function findDatabase(teardowns: Teardown[]): Promise<string> {
  const database = await findPostgres({ useExisting: true, purpose: 'io-billing-test' });
  teardowns.push(() => database.release());
  return database.url;
}

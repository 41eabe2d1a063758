// Per-test-file isolation on the shared Redis and PostgreSQL: its own key prefix and its own
// schema, both removed by cleanup(), so files can run in parallel and leave nothing behind.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestContext {
  readonly redisUrl: string;
  readonly databaseUrl: string;
  /** `t-<name>-<random>:`; no braces, so the code under test adds its own hash tags. */
  readonly keyPrefix: string;
  /** `t_<name>_<random>`, created before this returns; every pool connection uses it. */
  readonly schema: string;
  readonly redis: Redis;
  readonly pool: pg.Pool;
  cleanup(): Promise<void>;
}

const scanCount = 1000;
const scanRoundsMax = 100_000;
const unlinkBatchMax = 500;
/** PostgreSQL truncates identifiers at 63 bytes; leave room for `t_`, `_` and the random part. */
const schemaNameCharactersMax = 40;

export async function createTestContext(name: string): Promise<TestContext> {
  const redisUrl = inject('redisUrl');
  const databaseUrl = inject('databaseUrl');
  const safeName = name.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, schemaNameCharactersMax);
  const random = randomBytes(4).toString('hex');
  const keyPrefix = `t-${safeName.replace(/_/g, '-')}-${random}:`;
  const schema = `t_${safeName}_${random}`;
  const redis = new Redis(redisUrl);
  const pool = schemaPool(databaseUrl, schema);
  await pool.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
  const cleanup = async (): Promise<void> => {
    try {
      await deleteKeys(redis, keyPrefix);
      await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    } finally {
      redis.disconnect();
      await pool.end();
    }
  };
  return { redisUrl, databaseUrl, keyPrefix, schema, redis, pool, cleanup };
}

/**
 * The search_path is set as a startup parameter (`options: -c search_path=...`), which is the
 * same as every connection running `SET search_path TO <schema>` first, but without queueing a
 * second query behind the caller's on a fresh client, which node-postgres deprecates. The
 * schema name is a plain lower-case identifier, so it needs no quoting here.
 */
function schemaPool(databaseUrl: string, schema: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, options: `-c search_path=${schema}` });
  // An idle client dropped by the server would otherwise crash the test process.
  pool.on('error', () => undefined);
  return pool;
}

/** SCAN, not KEYS, so a large keyspace does not block the shared server. */
async function deleteKeys(redis: Redis, keyPrefix: string): Promise<void> {
  const pattern = `${escapeGlob(keyPrefix)}*`;
  let cursor = '0';
  for (let round = 0; round < scanRoundsMax; round++) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', scanCount);
    for (let start = 0; start < keys.length; start += unlinkBatchMax) {
      await redis.unlink(...keys.slice(start, start + unlinkBatchMax));
    }
    cursor = next;
    if (cursor === '0') return;
  }
  throw new Error(`cleanup: SCAN for ${pattern} did not finish in ${scanRoundsMax} rounds`);
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

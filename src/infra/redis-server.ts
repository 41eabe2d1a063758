// A private redis-server child process: for tests, and for `npm start` when no REDIS_URL is set.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.js';

export interface RedisServerOptions {
  /** Default: a free port. */
  port?: number;
  /** Working directory for the AOF and nodes.conf; created if missing. */
  directory?: string;
  appendOnly?: boolean;
  /** Only read when appendOnly is set. Default: everysec, Redis's own default. */
  appendFsync?: 'always' | 'everysec' | 'no';
  clusterEnabled?: boolean;
}

export interface RedisServerHandle {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** SIGTERM, then SIGKILL if the server has not exited within stopTimeoutMs. */
  stop(): Promise<void>;
  /** Sends the signal and waits for the process to exit, e.g. SIGKILL to simulate a crash. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

const readyAttemptsMax = 200;
const readyIntervalMs = 25;
const readyProbeTimeoutMs = 250;
const stopTimeoutMs = 10_000;
const outputCharactersMax = 16_384;
/** Redis Cluster listens on port + 10000 for its bus; a larger port cannot be used. */
const clusterBusOffset = 10_000;
const clusterPortAttemptsMax = 100;

/** True when a redis-server executable is on the PATH, so callers can skip or fail clearly. */
export function redisServerAvailable(): boolean {
  const directories = (process.env['PATH'] ?? '').split(delimiter).filter((entry) => entry !== '');
  return directories.some((directory) => isExecutable(join(directory, 'redis-server')));
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const directory = await prepareDirectory(options);
  const port = options.port ?? (options.clusterEnabled ? await freeClusterPort() : await freePort());
  const child = spawn('redis-server', redisArguments(port, options, directory), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = captureOutput(child);
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  await waitUntilReady(child, port, output);
  return handleFor(child, port);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function prepareDirectory(options: RedisServerOptions): Promise<string | undefined> {
  if (options.directory === undefined) {
    // Without a directory Redis would write into whatever the caller's working directory is.
    if (options.appendOnly || options.clusterEnabled) {
      throw new Error('startRedisServer: appendOnly and clusterEnabled need a directory');
    }
    return undefined;
  }
  // Absolute, because redis-server resolves --dir against its own working directory.
  const directory = resolve(options.directory);
  await mkdir(directory, { recursive: true });
  return directory;
}

function redisArguments(port: number, options: RedisServerOptions, directory: string | undefined): string[] {
  // `--save ""` turns RDB snapshots off: durability, when wanted, comes from the AOF alone.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--daemonize', 'no'];
  if (directory !== undefined) args.push('--dir', directory);
  if (options.appendOnly) {
    args.push('--appendonly', 'yes', '--appendfsync', options.appendFsync ?? 'everysec');
  } else {
    args.push('--appendonly', 'no');
  }
  if (options.clusterEnabled) {
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf');
  }
  return args;
}

/** A free port whose cluster bus port (port + 10000) is also free and still a valid port. */
async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < clusterPortAttemptsMax; attempt++) {
    const port = await freePort();
    if (port + clusterBusOffset <= 65_535 && (await portIsFree(port + clusterBusOffset))) return port;
  }
  throw new Error(`startRedisServer: no free port pair for a cluster node after ${clusterPortAttemptsMax} tries`);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise(true)));
  });
}

interface Output {
  text: string;
  spawnError: Error | undefined;
}

/** Keeps the tail of redis-server's output, so a failed start can say why. */
function captureOutput(child: ChildProcess): Output {
  const output: Output = { text: '', spawnError: undefined };
  const append = (chunk: Buffer): void => {
    output.text = (output.text + chunk.toString('utf8')).slice(-outputCharactersMax);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.once('error', (error) => {
    output.spawnError = error;
  });
  return output;
}

async function waitUntilReady(child: ChildProcess, port: number, output: Output): Promise<void> {
  for (let attempt = 0; attempt < readyAttemptsMax; attempt++) {
    if (output.spawnError !== undefined || hasExited(child)) {
      throw startError(port, 'redis-server exited during start', output);
    }
    if (await answersAs(port, child.pid)) return;
    await sleep(readyIntervalMs);
  }
  child.kill('SIGKILL');
  throw startError(port, `not ready after ${readyAttemptsMax} tries of ${readyIntervalMs} ms`, output);
}

function startError(port: number, reason: string, output: Output): Error {
  const cause = output.spawnError?.message ?? '';
  return new Error(`startRedisServer on port ${port}: ${reason}. ${cause}\n${output.text}`.trim());
}

/**
 * Asks the server on the port for its process id. A bare PING is not enough: if the port was
 * taken meanwhile, another server would answer while ours is failing to bind. A plain socket
 * rather than a Redis client, because a client would keep reconnecting and logging while the
 * server starts. A server still loading its AOF answers -LOADING, which counts as not ready.
 */
function answersAs(port: number, pid: number | undefined): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ready: boolean): void => {
      socket.destroy();
      resolvePromise(ready);
    };
    socket.setTimeout(readyProbeTimeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (data) => {
      reply += data.toString('utf8');
      if (reply.startsWith('-')) return finish(false);
      const match = /\r\nprocess_id:(\d+)\r\n/.exec(reply);
      if (match) finish(Number(match[1]) === pid);
    });
  });
}

function handleFor(child: ChildProcess, port: number): RedisServerHandle {
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (hasExited(child)) return;
    const exited = waitForExit(child);
    child.kill(signal);
    await exited;
  };
  const stop = async (): Promise<void> => {
    if (hasExited(child)) return;
    const exited = waitForExit(child);
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
    await exited;
    clearTimeout(timer);
  };
  // A child that reported its own pid was spawned, so it has one; anything else is a bug.
  if (child.pid === undefined) throw new Error('startRedisServer: a running redis-server has no pid');
  return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid, stop, kill };
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolvePromise) => child.once('exit', () => resolvePromise()));
}

/**
 * Children still running when this process exits. One 'exit' listener for all of them (rather
 * than one per server) keeps Node's max-listeners warning away when a test starts many servers.
 * The listener must be synchronous, so it can only signal, not wait. A parent killed by a
 * signal it does not handle never runs it; stop() in the caller's teardown is the main path.
 */
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGTERM');
});

// A private redis-server child process: for tests, and for `npm start` when no REDIS_URL is set.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { diesWithParent, onPath, processAlive, readPidFile, stopProcess, workingDirectoryOf } from './child-processes.js';
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
  /** Resolves when the process has exited, whatever the reason. */
  readonly exited: Promise<void>;
  /** SIGTERM, then SIGKILL if the server has not exited within stopTimeoutMs. */
  stop(): Promise<void>;
  /** Sends the signal and waits for the process to exit, e.g. SIGKILL to simulate a crash. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** How long a server may take to answer at all. */
const answerTimeoutMs = 5_000;
/** How long a server that answers -LOADING may take to load its AOF (about 1 GB on a slow disk). */
const loadingTimeoutMs = 600_000;
const readyIntervalMs = 25;
const readyProbeTimeoutMs = 250;
const stopTimeoutMs = 10_000;
const outputCharactersMax = 16_384;
/** Redis Cluster listens on port + 10000 for its bus; a larger port cannot be used. */
const clusterBusOffset = 10_000;
const clusterPortAttemptsMax = 100;
/** In the server's directory: lets the next start find a server a killed service left running. */
export const redisPidFileName = 'redis-server.pid';
/** A server left running on our files gets this long to write out its AOF and exit. */
const orphanStopTimeoutMs = 30_000;

/** True when a redis-server executable is on the PATH, so callers can skip or fail clearly. */
export function redisServerAvailable(): boolean {
  return onPath('redis-server');
}

/**
 * Starts redis-server so that it dies with this process (see diesWithParent); SIGTERM makes it
 * write out its AOF first. With a directory, a server still running there (left by a process that
 * was killed) is stopped first: callers keep one owner per directory, so such a server is an
 * orphan, and two servers appending to one AOF corrupt it.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const directory = await prepareDirectory(options);
  if (directory !== undefined) await stopOrphan(directory);
  const port = options.port ?? (options.clusterEnabled ? await freeClusterPort() : await freePort());
  const [command, args] = diesWithParent('redis-server', redisArguments(port, options, directory), 'SIGTERM');
  // Its own process group: a Ctrl-C in the terminal reaches the service alone, which then stops
  // the server after its requests drain, rather than Redis vanishing under them.
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const output = captureOutput(child);
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  await waitUntilReady(child, port, output, directory);
  return handleFor(child, port);
}

async function stopOrphan(directory: string): Promise<void> {
  const pidFile = join(directory, redisPidFileName);
  const pid = readPidFile(pidFile);
  if (pid === undefined || !processAlive(pid)) return;
  const workingDirectory = workingDirectoryOf(pid);
  if (workingDirectory === undefined) {
    throw new Error(`startRedisServer: process ${pid}, named in ${pidFile}, is still running; ` +
      'if it is a redis-server on these files, stop it first (redis-cli -p <port> shutdown), else delete that file');
  }
  // Redis changes into its --dir: any other directory means the pid now belongs to someone else.
  if (workingDirectory === directory) await stopProcess(pid, 'SIGTERM', orphanStopTimeoutMs);
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
  if (directory !== undefined) args.push('--dir', directory, '--pidfile', join(directory, redisPidFileName));
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
  /** Resolves once stdout and stderr are drained: 'exit' can come before the last of the output. */
  drained: Promise<void>;
}

const drainTimeoutMs = 1_000;

/** Keeps the tail of redis-server's output, so a failed start can say why. */
function captureOutput(child: ChildProcess): Output {
  const output: Output = { text: '', spawnError: undefined, drained: new Promise((resolve) => child.once('close', () => resolve())) };
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

async function waitUntilReady(child: ChildProcess, port: number, output: Output, directory: string | undefined): Promise<void> {
  const startedAt = Date.now();
  let timeoutMs = answerTimeoutMs;
  while (Date.now() - startedAt < timeoutMs) {
    if (output.spawnError !== undefined || hasExited(child)) {
      await Promise.race([output.drained, sleep(drainTimeoutMs)]);
      const damaged = damagedAppendOnlyFile(output, directory);
      throw damaged ?? startError(port, 'redis-server exited during start', output);
    }
    const state = await probe(port, child.pid);
    if (state === 'ready') return;
    if (state === 'loading') timeoutMs = loadingTimeoutMs;
    await sleep(readyIntervalMs);
  }
  child.kill('SIGKILL');
  throw startError(port, `not ready after ${timeoutMs} ms`, output);
}

const damagedAofPatterns = [
  /(bad file format|unrecoverable error|unexpected end of file) reading the append only file/i,
  /manifest .*(invalid|damaged|corrupt)|invalid .*manifest/i,
];

/** Redis refuses to load an AOF with a broken record; that deserves an error saying how to repair it. */
function damagedAppendOnlyFile(output: Output, directory: string | undefined): Error | undefined {
  if (directory === undefined || !damagedAofPatterns.some((pattern) => pattern.test(output.text))) return undefined;
  const manifest = join(directory, 'appendonlydir', 'appendonly.aof.manifest');
  return new Error(
    `the append-only file of the private Redis in ${directory} is damaged, so Redis will not start. ` +
      `Back up ${join(directory, 'appendonlydir')}, then repair it with: redis-check-aof --fix ${manifest} ` +
      '(it cuts the file at the first broken record; what follows that record is lost). ' +
      `Redis said:\n${output.text.trim()}`,
  );
}

function startError(port: number, reason: string, output: Output): Error {
  const cause = output.spawnError?.message ?? '';
  return new Error(`startRedisServer on port ${port}: ${reason}. ${cause}\n${output.text}`.trim());
}

type ServerState = 'ready' | 'loading' | 'absent';

/**
 * Asks the server on the port for its process id, then PINGs it. The pid, because if the port was
 * taken meanwhile, another server would answer while ours is failing to bind. The PING, because
 * Redis answers INFO while it is still loading its AOF (and may yet fail to load it); PING answers
 * -LOADING until the data is in. A plain socket rather than a Redis client, because a client would
 * keep reconnecting and logging while the server starts.
 */
function probe(port: number, pid: number | undefined): Promise<ServerState> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (state: ServerState): void => {
      socket.destroy();
      resolvePromise(state);
    };
    socket.setTimeout(readyProbeTimeoutMs, () => finish('absent'));
    socket.once('error', () => finish('absent'));
    socket.once('connect', () => socket.write('INFO server\r\nPING\r\n'));
    socket.on('data', (data) => {
      reply += data.toString('utf8');
      const match = /\r\nprocess_id:(\d+)\r\n/.exec(reply);
      if (reply.startsWith('-') || (match && Number(match[1]) !== pid)) return finish('absent');
      if (match && reply.endsWith('+PONG\r\n')) finish('ready');
      else if (match && /\r\n-LOADING[^\n]*\r\n$/.test(reply)) finish('loading');
      else if (match && /\r\n-[^\n]*\r\n$/.test(reply)) finish('absent');
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
  return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid, exited: waitForExit(child), stop, kill };
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

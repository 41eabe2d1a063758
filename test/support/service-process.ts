// The built service (dist/src/main.js) as a child process, as `npm start` runs it: for tests that
// kill it, or the servers it starts, and start it again on the same DATA_DIR.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { freePort } from '../../src/infra/free-port.js';
import { projectPath } from '../../src/paths.js';

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly httpUrl: string;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM, and its exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, no exit handler runs. */
  crash(): Promise<void>;
}

const POLL_PAUSE_MS = 50;

/** The environment less everything the service reads, so only `environment` configures it. */
export function bareEnvironment(environment: Record<string, string>): NodeJS.ProcessEnv {
  const bare: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'TMPDIR']) if (process.env[name] !== undefined) bare[name] = process.env[name];
  return { ...bare, ...environment };
}

export interface ServiceProcessOptions {
  cwd?: string;
  entry?: string;
  /** Its own process group, as a terminal gives a foreground job, so a test can signal the group as Ctrl-C does. */
  processGroup?: boolean;
}

export async function startServiceProcess(environment: Record<string, string>, options: ServiceProcessOptions = {}): Promise<ServiceProcess> {
  const httpPort = await freePort();
  const grpcPort = await freePort();
  let output = '';
  const child = spawn(process.execPath, [options.entry ?? projectPath('dist', 'src', 'main.js')], {
    cwd: options.cwd,
    env: bareEnvironment({ GRPC_HOST: '127.0.0.1', GRPC_PORT: String(grpcPort), HTTP_HOST: '127.0.0.1', HTTP_PORT: String(httpPort), ...environment }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.processGroup ?? false,
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  const crash = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return { child, httpUrl: `http://127.0.0.1:${httpPort}`, output: () => output, stop, crash };
}

/** Polls `check` until it holds, for at most `timeoutMs`: a child's start takes its own time on a busy machine. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, POLL_PAUSE_MS));
  }
  return check();
}

export function healthy(service: ServiceProcess): Promise<boolean> {
  return fetch(`${service.httpUrl}/healthz`).then((response) => response.ok, () => false);
}

/** Pids of the redis-server processes working in `directory` (Linux: from /proc), whoever started them. */
export function redisServersIn(directory: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) !== directory) continue;
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim().startsWith('redis-server')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

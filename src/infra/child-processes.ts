// What the private servers (redis-server, the embedded PostgreSQL) need from the operating system
// so that none of them outlives the service that started it, and so that a start can recognise a
// server a killed service left behind on the same files.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, readlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const exitPollIntervalMs = 50;
const helpTimeoutMs = 5_000;

/** True when an executable of that name is on the PATH. */
export function onPath(name: string): boolean {
  const directories = (process.env['PATH'] ?? '').split(delimiter).filter((entry) => entry !== '');
  return directories.some((directory) => isExecutable(join(directory, name)));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

let setprivKnown: boolean | undefined;

/**
 * The command line that runs `command` so that the kernel sends it `signal` when the service dies,
 * however it dies (a SIGKILL runs no exit handler, so only the kernel can do this). util-linux's
 * setpriv sets PR_SET_PDEATHSIG and then execs the command, so the pid stays the server's own.
 * Where setpriv is missing (not Linux), the command runs as it is and the take-over at the next
 * start is what keeps two servers off the same files.
 */
export function diesWithParent(command: string, args: readonly string[], signal: NodeJS.Signals): [string, string[]] {
  setprivKnown ??= setprivSetsDeathSignal();
  if (!setprivKnown) return [command, [...args]];
  return ['setpriv', ['--pdeathsig', signal, '--', command, ...args]];
}

/** util-linux added --pdeathsig in 2.33 (2018); an older setpriv would refuse the option. */
function setprivSetsDeathSignal(): boolean {
  if (!onPath('setpriv')) return false;
  const help = spawnSync('setpriv', ['--help'], { encoding: 'utf8', timeout: helpTimeoutMs });
  return `${help.stdout}${help.stderr}`.includes('--pdeathsig');
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user (the embedded PostgreSQL runs as `postgres`).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // An orphan that exited stays a zombie until PID 1 reaps it, which some containers' PID 1
  // never does; it holds no file open any more.
  return procStatFields(pid)?.[0] !== 'Z';
}

/** The first line of a pid file (Redis's pidfile, PostgreSQL's postmaster.pid), or undefined. */
export function readPidFile(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text.split('\n')[0]!.trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * The working directory of a process, from /proc on Linux: redis-server and postgres both change
 * into their data directory, so it tells whether a live pid is a server on our files or an
 * unrelated process that reused the pid. Undefined where /proc does not say.
 */
export function workingDirectoryOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** When the process started, in clock ticks since boot (Linux), so a reused pid is told apart. */
export function startTimeOf(pid: number): string | undefined {
  return procStatFields(pid)?.[19];
}

/** Fields 3 onwards of /proc/<pid>/stat (state first), or undefined where there is no /proc. */
function procStatFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; the fields after it are plain.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Sends the signal, waits up to timeoutMs for the process to go, then SIGKILLs it and waits. */
export async function stopProcess(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  signalQuietly(pid, signal);
  if (await exitsWithin(pid, timeoutMs)) return;
  signalQuietly(pid, 'SIGKILL');
  if (!(await exitsWithin(pid, timeoutMs))) throw new Error(`process ${pid} did not exit after SIGKILL`);
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

export async function exitsWithin(pid: number, timeoutMs: number): Promise<boolean> {
  const pollsMax = Math.ceil(timeoutMs / exitPollIntervalMs);
  for (let poll = 0; poll < pollsMax; poll++) {
    if (!processAlive(pid)) return true;
    await sleep(exitPollIntervalMs);
  }
  return !processAlive(pid);
}

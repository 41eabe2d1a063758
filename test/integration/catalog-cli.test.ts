// The catalog CLI against a running service: a file is checked locally first (problems name its
// lines, and nothing is sent), then applied or dry-run over HTTP; export writes the catalog to a
// file that applies again as a no-op. Every failure exits non-zero.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPath } from '../../src/paths.js';
import { runCatalogCli } from '../../scripts/catalog.js';
import { startTestService, type TestService } from '../support/service.js';

const FIXTURE = projectPath('test', 'fixtures', 'catalog', 'iot-plans.yaml');
let service: TestService;
let guarded: TestService;
let directory: string;

beforeAll(async () => {
  [service, guarded] = await Promise.all([startTestService('catalog-cli'), startTestService('catalog-cli-token', { environment: { ADMIN_TOKEN: 'secret' } })]);
  directory = mkdtempSync(join(tmpdir(), 'io-catalog-'));
});
afterAll(async () => {
  await Promise.all([service?.close(), guarded?.close()]);
  rmSync(directory, { recursive: true, force: true });
});

async function run(args: string[], target: TestService = service): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCatalogCli(args, { out: (text) => out.push(text), err: (text) => err.push(text) }, { IO_HTTP_URL: target.http.baseUrl });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('npm run catalog', () => {
  it('apply --dry-run shows what would change and writes nothing', async () => {
    const result = await run(['apply', FIXTURE, '--dry-run']);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toBe([
      'rating group 1: created', 'rating group 2: created', 'tariff iot-eu: created (version 1)', 'plan iot-fleet: created',
      '  version 2025-12-31T23:00:00Z: created', '  version 2026-12-31T23:00:00Z: created',
      '6 created, 0 changed, 0 unchanged, 0 removed (dry run: nothing was written)',
    ].join('\n'));
    expect((await service.http.ok('GET', '/v1/catalog/export')).plans).toEqual([]);
  });

  it('apply writes it, and applying it again changes nothing', async () => {
    expect((await run(['apply', FIXTURE])).out).toContain('6 created, 0 changed, 0 unchanged, 0 removed');
    expect((await run(['apply', FIXTURE])).out).toContain('0 created, 0 changed, 6 unchanged, 0 removed');
  });

  it('export writes a file that applies again as a no-op', async () => {
    const file = join(directory, 'exported.yaml');
    expect(await run(['export', file])).toEqual({ code: 0, out: '', err: '' });
    expect(readFileSync(file, 'utf8')).toContain('id: iot-fleet');
    expect((await run(['apply', file])).out).toContain('0 created, 0 changed, 6 unchanged, 0 removed');
    expect((await run(['export'])).out).toBe(readFileSync(file, 'utf8'));
  });

  it('names the file and line of each problem it finds itself, sends nothing and exits 1', async () => {
    const file = join(directory, 'broken.yaml');
    writeFileSync(file, readFileSync(FIXTURE, 'utf8').replace('tariff: iot-eu\n        allowances:\n          - name', 'tariff: iot-us\n        allowances:\n          - name'));
    const result = await run(['apply', file], { http: { baseUrl: 'http://127.0.0.1:9' } } as TestService);
    expect(result.code).toBe(1);
    expect(result.err).toBe([
      `${file}:71: plans[0].versions[0].tariff: unknown tariff "iot-us": declare it in tariffs`,
      `${file}: refused (INVALID_ARGUMENT), 1 problem; nothing was changed`,
    ].join('\n'));
  });

  it('names the line of a problem only the service can find (a version in effect changed) and exits 1', async () => {
    const file = join(directory, 'repriced.yaml');
    writeFileSync(file, readFileSync(FIXTURE, 'utf8').replace('amount: "1.50"', 'amount: "1.40"'));
    const result = await run(['apply', file]);
    expect(result.code).toBe(1);
    expect(result.err.split('\n')[0]).toBe(`${file}:70: plans[0].versions[0]: plan "iot-fleet" version 2025-12-31T23:00:00Z is in effect and cannot change: add a version with a later effective_from instead`);
  });

  it.each([
    ['a missing file', ['apply', 'no-such-file.yaml'], 1, 'no-such-file.yaml: ENOENT'],
    ['no file to apply', ['apply'], 2, 'usage:'],
    ['an unknown command', ['import', 'x.yaml'], 2, 'usage:'],
    ['an unknown option', ['apply', 'x.yaml', '--force'], 2, "Unknown option '--force'"],
  ])('exits non-zero on %s', async (_name, args, code, message) => {
    const result = await run(args);
    expect(result.code).toBe(code);
    expect(result.err).toContain(message);
  });

  it('exits 1 when the service cannot be reached', async () => {
    const result = await run(['export', '--url', 'http://127.0.0.1:9']);
    expect(result.code).toBe(1);
    expect(result.err).toContain('cannot reach http://127.0.0.1:9');
  });

  it('sends the admin token, and exits 1 without it', async () => {
    const refused = await run(['export'], guarded);
    expect(refused).toMatchObject({ code: 1, err: 'export: 401 UNAUTHENTICATED authorization: send the admin token as "Authorization: Bearer <token>"' });
    expect((await run(['apply', FIXTURE, '--token', 'secret'], guarded)).code).toBe(0);
  });
});

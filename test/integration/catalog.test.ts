// Pricing as code over HTTP, against real PostgreSQL: POST /v1/catalog/apply (YAML or JSON, with
// a dry run) and GET /v1/catalog/export. A catalog is refused whole with every problem named by
// path and line, and then nothing has changed; applying the same catalog twice, or its export,
// changes nothing; a plan version in effect never changes, one to come may; a tariff edit
// reprices only the versions to come, as each version keeps a snapshot of its tariff.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkCatalogText } from '../../src/catalog/catalog-check.js';
import type { CatalogDocument } from '../../src/catalog/catalog-document.js';
import { projectPath } from '../../src/paths.js';
import { START_MS, startTestService, type TestService } from '../support/service.js';

const FIXTURE = readFileSync(projectPath('test', 'fixtures', 'catalog', 'iot-plans.yaml'), 'utf8');
const YAML = { 'content-type': 'application/yaml' };
const IN_EFFECT = '2025-12-31T23:00:00Z';
const TO_COME = '2026-12-31T23:00:00Z';

let service: TestService;

beforeAll(async () => {
  service = await startTestService('catalog');
});
afterAll(() => service?.close());

function apply(text: string, dryRun = false) {
  return service.http.request('POST', `/v1/catalog/apply${dryRun ? '?dry_run=true' : ''}`, text, YAML);
}

async function applied(text: string) {
  const response = await apply(text);
  expect(response.status, response.text).toBe(200);
  return response.body;
}

function exported(): Promise<CatalogDocument> {
  return service.http.ok('GET', '/v1/catalog/export');
}

function parsed(text: string): CatalogDocument {
  const checked = checkCatalogText(text);
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  return checked.catalog;
}

function lineOf(text: string, marker: string): number {
  return text.split('\n').findIndex((line) => line.includes(marker)) + 1;
}

/** The fixture with its first occurrence of `from` replaced. */
function edited(from: string, to: string): string {
  if (!FIXTURE.includes(from)) throw new Error(`the fixture has no ${from}`);
  return FIXTURE.replace(from, to);
}

async function resetSchema(): Promise<void> {
  await service.context.pool.query('TRUNCATE subscriptions, plan_versions, plans, catalog_tariffs, rating_groups CASCADE');
  service.clock.set(START_MS);
}

const everything = (change: string) => ({
  rating_groups: [{ id: 1, change }, { id: 2, change }],
  tariffs: [{ id: 'iot-eu', change, version: 1 }],
  plans: [{ id: 'iot-fleet', change, versions: [{ effective_from: IN_EFFECT, change }, { effective_from: TO_COME, change }] }],
});

describe('apply and export', () => {
  beforeAll(resetSchema);

  it('a dry run reports what would be created and writes nothing', async () => {
    const response = await apply(FIXTURE, true);
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual({ dry_run: true, ...everything('created'), counts: { created: 6, changed: 0, unchanged: 0, removed: 0 } });
    expect(await exported()).toEqual({ rating_groups: [], tariffs: [], plans: [] });
  });

  it('creates the catalog, and the export gives back the same catalog', async () => {
    expect(await applied(FIXTURE)).toEqual({ dry_run: false, ...everything('created'), counts: { created: 6, changed: 0, unchanged: 0, removed: 0 } });
    const catalog = await exported();
    expect(catalog).toEqual(parsed(FIXTURE));
    // In the format's order, as the file was written, though jsonb keeps no order of keys.
    expect(Object.keys(catalog.tariffs[0]!).slice(0, 4)).toEqual(['id', 'name', 'currency', 'time_zone']);
    expect(Object.keys(catalog.plans[0]!.versions[0]!.allowances[0]!).slice(0, 3)).toEqual(['name', 'rating_group', 'units']);
  });

  it('makes the rating groups known to the online path at once', async () => {
    expect((await service.http.ok('GET', '/v1/rating-groups')).items).toEqual([{ id: 1, name: 'data', unit: 'bytes' }, { id: 2, name: 'sms', unit: 'events' }]);
    expect(service.app.catalog.isRatingGroup(2)).toBe(true);
  });

  it('applying it again changes nothing', async () => {
    expect(await applied(FIXTURE)).toEqual({ dry_run: false, ...everything('unchanged'), counts: { created: 0, changed: 0, unchanged: 6, removed: 0 } });
  });

  it('applying its YAML export, or its JSON export, changes nothing', async () => {
    const yaml = await service.http.request('GET', '/v1/catalog/export', undefined, { accept: 'application/yaml' });
    expect(yaml.status).toBe(200);
    expect(yaml.text).toContain('effective_from: 2025-12-31T23:00:00Z');
    expect(parsed(yaml.text)).toEqual(parsed(FIXTURE));
    expect((await applied(yaml.text)).counts).toEqual({ created: 0, changed: 0, unchanged: 6, removed: 0 });
    const json = await service.http.request('POST', '/v1/catalog/apply', await exported());
    expect(json.status, json.text).toBe(200);
    expect(json.body.counts).toEqual({ created: 0, changed: 0, unchanged: 6, removed: 0 });
  });

  it('leaves the admin API\'s flat tariffs apart, under their own ids', async () => {
    const flat = await service.http.ok('PUT', '/v1/tariffs/iot-eu', { name: 'flat', currency: 'EUR', rates: [{ rating_group: 2, price: '0.10' }] });
    expect(flat).toMatchObject({ id: 'iot-eu', version: 1, rates: [{ rating_group: 2, price: '0.10' }] });
    expect((await exported()).tariffs[0]).toMatchObject({ id: 'iot-eu', name: 'IoT Europe' });
    expect((await applied(FIXTURE)).counts.unchanged).toBe(6);
  });
});

describe('size and concurrency', () => {
  beforeEach(resetSchema);

  it('takes a catalog larger than the admin API\'s body limit, up to 4 MiB, and refuses a larger one: 413', async () => {
    const networks = (zone: number) => Array.from({ length: 4000 }, (_, index) => `"${200 + zone * 10 + Math.floor(index / 1000)}-${String(index % 1000).padStart(3, '0')}"`).join(', ');
    const zones = [0, 1, 2, 3].map((zone) => `      - { name: z${zone}, networks: [${networks(zone)}] }`).join('\n');
    const large = FIXTURE.replace('      - name: world                                # everywhere else', `      - name: world\n${zones}`);
    expect(Buffer.byteLength(large)).toBeGreaterThan(service.config.bodyBytesMax * 2);
    expect((await applied(large)).tariffs).toEqual([{ id: 'iot-eu', change: 'created', version: 1 }]);
    const tooLarge = await apply(`${FIXTURE}\n#${'x'.repeat(4 * 1024 * 1024)}\n`);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('applies concurrent catalogs one after the other: one creates, the others find it unchanged', async () => {
    const reports = await Promise.all(Array.from({ length: 6 }, () => apply(FIXTURE)));
    expect(reports.map((report) => report.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(reports.map((report) => report.body.counts.created).sort()).toEqual([0, 0, 0, 0, 0, 6]);
    expect(await exported()).toEqual(parsed(FIXTURE));
  });
});

describe('an invalid catalog is refused whole, and nothing changes', () => {
  beforeAll(resetSchema);

  it('names every problem with its path and line: 400 INVALID_ARGUMENT', async () => {
    const text = edited('increment_units: 1000                  # counted in whole kB', 'increment_units: 0')
      .replace('tariff: iot-eu\n        allowances:\n          - name: device-data', 'tariff: iot-world\n        allowances:\n          - name: device-data');
    const response = await apply(text);
    expect(response.status, response.text).toBe(400);
    expect(response.body.error).toEqual({
      code: 'INVALID_ARGUMENT',
      field: 'tariffs[0].rates[0].intervals[0].increment_units',
      message: `tariffs[0].rates[0].intervals[0].increment_units: must be at least 1 (line ${lineOf(text, 'increment_units: 0')}) (and 1 more)`,
      problems: [
        { field: 'tariffs[0].rates[0].intervals[0].increment_units', line: lineOf(text, 'increment_units: 0'), message: 'must be at least 1' },
        { field: 'plans[0].versions[0].tariff', line: lineOf(text, 'tariff: iot-world'), message: 'unknown tariff "iot-world": declare it in tariffs' },
      ],
    });
    expect(await exported()).toEqual({ rating_groups: [], tariffs: [], plans: [] });
  });

  it('names paths without lines for a JSON body', async () => {
    const catalog = parsed(FIXTURE);
    catalog.plans[0]!.currency = 'USD';
    const response = await service.http.request('POST', '/v1/catalog/apply', catalog);
    expect(response.status).toBe(400);
    expect(response.body.error.problems).toEqual([
      { field: 'plans[0].versions[0].tariff', message: 'tariff "iot-eu" is in EUR, the plan in USD' },
      { field: 'plans[0].versions[1].tariff', message: 'tariff "iot-eu" is in EUR, the plan in USD' },
    ]);
    expect(await exported()).toEqual({ rating_groups: [], tariffs: [], plans: [] });
  });

  it.each([
    ['a YAML syntax error', 'plans: [', YAML, 400, 'catalog'],
    ['a JSON string instead of a catalog', '"rating_groups: []"', { 'content-type': 'application/json' }, 400, 'catalog'],
    ['text/plain', 'plans: []', { 'content-type': 'text/plain' }, 415, 'content-type'],
  ])('refuses %s', async (_name, body, headers, status, field) => {
    const response = await service.http.request('POST', '/v1/catalog/apply', body, headers);
    expect(response.status, response.text).toBe(status);
    expect(response.body.error.field).toBe(field);
  });

  it('says which media types a catalog may be sent as', async () => {
    const response = await service.http.request('POST', '/v1/catalog/apply', 'plans: []', { 'content-type': 'text/plain' });
    expect(response.body.error.message).toBe('content-type: send the body as application/json (a catalog also as application/yaml)');
  });

  it('refuses a dry_run that is not true or false', async () => {
    const response = await service.http.request('POST', '/v1/catalog/apply?dry_run=yes', FIXTURE, YAML);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'dry_run' });
  });
});

describe('versions', () => {
  beforeEach(async () => {
    await resetSchema();
    await applied(FIXTURE);
  });

  it('a version in effect cannot change: 409 CONFLICT naming it and its line, and nothing changes', async () => {
    const text = edited('amount: "1.50"', 'amount: "1.40"');
    const response = await apply(text);
    expect(response.status, response.text).toBe(409);
    expect(response.body.error).toMatchObject({
      code: 'CONFLICT',
      field: 'plans[0].versions[0]',
      problems: [{
        field: 'plans[0].versions[0]', line: lineOf(FIXTURE, '2026-01-01T00:00:00+01:00'),
        message: `plan "iot-fleet" version ${IN_EFFECT} is in effect and cannot change: add a version with a later effective_from instead`,
      }],
    });
    expect(await exported()).toEqual(parsed(FIXTURE));
  });

  it('a dry run reports the conflict too', async () => {
    expect((await apply(edited('amount: "1.50"', 'amount: "1.40"'), true)).status).toBe(409);
  });

  it('a version to come can change, and a dry run of it changes nothing', async () => {
    const text = edited('amount: "1.75"', 'amount: "1.80"');
    const dryRun = await apply(text, true);
    expect(dryRun.body.plans[0].versions).toEqual([{ effective_from: IN_EFFECT, change: 'unchanged' }, { effective_from: TO_COME, change: 'changed' }]);
    expect(await exported()).toEqual(parsed(FIXTURE));
    expect((await applied(text)).counts).toEqual({ created: 0, changed: 1, unchanged: 5, removed: 0 });
    expect((await exported()).plans[0]!.versions[1]!.fees[0]!.amount).toBe('1.80');
  });

  it('a version to come that the catalog leaves out is withdrawn; one in effect is kept', async () => {
    const withoutSecond = FIXTURE.slice(0, FIXTURE.indexOf('      - effective_from: "2027-01-01'));
    expect((await applied(withoutSecond)).plans[0].versions).toEqual([{ effective_from: IN_EFFECT, change: 'unchanged' }, { effective_from: TO_COME, change: 'removed' }]);
    const onlySecond = FIXTURE.replace(/      - effective_from: "2026-01-01[\s\S]*?(?=      - effective_from: "2027)/, '');
    expect((await applied(onlySecond)).plans[0].versions).toEqual([{ effective_from: TO_COME, change: 'created' }]);
    const { rows } = await service.context.pool.query('SELECT effective_from FROM plan_versions ORDER BY effective_from');
    expect(rows.map((row) => row.effective_from.toISOString())).toEqual(['2025-12-31T23:00:00.000Z', '2026-12-31T23:00:00.000Z']);
  });

  it('a new version cannot start in the past of a plan already priced', async () => {
    const text = edited('      - effective_from: "2027-01-01T00:00:00+01:00"', '      - effective_from: "2026-06-01T00:00:00+02:00"');
    const response = await apply(text);
    expect(response.status).toBe(409);
    expect(response.body.error.problems).toEqual([
      {
        field: 'plans[0].versions[1].effective_from', line: lineOf(text, '2026-06-01'),
        message: `must be in the future: plan "iot-fleet" has been priced by its version ${IN_EFFECT} since then, and a new version cannot reprice usage already charged`,
      },
    ]);
  });

  it('once its time comes, a version is in effect and cannot change either', async () => {
    service.clock.set(Date.parse(TO_COME));
    const response = await apply(edited('amount: "1.75"', 'amount: "1.80"'));
    expect(response.status).toBe(409);
    expect(response.body.error.field).toBe('plans[0].versions[1]');
  });

  it('exports the version in effect and those to come, not the ones they replaced', async () => {
    service.clock.set(Date.parse(TO_COME) + 1);
    expect((await exported()).plans[0]!.versions.map((version) => version.effective_from)).toEqual([TO_COME]);
    expect((await applied(FIXTURE)).counts.unchanged).toBe(6);
  });

  it('a plan with a version in effect cannot change its currency', async () => {
    const text = FIXTURE.replace('currency: EUR', 'currency: USD').replace('currency: EUR', 'currency: USD');
    const response = await apply(text);
    expect(response.status, response.text).toBe(409);
    expect(response.body.error.problems.map((problem: { field: string }) => problem.field)).toEqual([
      'tariffs[0].currency', 'plans[0].currency',
    ]);
  });
});

describe('a tariff edit', () => {
  const cheaperNights = () => edited('band_prices: { night: "0.50" }', 'band_prices: { night: "0.40" }');

  beforeEach(async () => {
    await resetSchema();
    await applied(FIXTURE);
  });

  it('reprices the versions to come only: those in effect keep the tariff they were written with', async () => {
    const report = await applied(cheaperNights());
    expect(report.tariffs).toEqual([{ id: 'iot-eu', change: 'changed', version: 2 }]);
    expect(report.plans[0].versions).toEqual([{ effective_from: IN_EFFECT, change: 'unchanged' }, { effective_from: TO_COME, change: 'changed' }]);
    const { rows } = await service.context.pool.query(
      `SELECT tariff_version, tariff_document #>> '{rates,0,intervals,0,tiers,steps,0,band_prices,night}' AS night FROM plan_versions ORDER BY effective_from`);
    expect(rows).toEqual([{ tariff_version: 1, night: '0.50' }, { tariff_version: 2, night: '0.40' }]);
  });

  it('is shown in the YAML export beside the versions still priced by the tariff before it', async () => {
    await applied(cheaperNights());
    const yaml = (await service.http.request('GET', '/v1/catalog/export', undefined, { accept: 'application/yaml' })).text;
    expect(yaml).toContain('# priced by tariff "iot-eu" as it was at its version 1, when this version was written');
    expect((await applied(yaml)).counts).toEqual({ created: 0, changed: 0, unchanged: 6, removed: 0 });
  });

  it('is refused while a version to come of a plan the catalog leaves out uses the tariff', async () => {
    const withoutPlans = cheaperNights().slice(0, FIXTURE.indexOf('plans:'));
    const response = await apply(withoutPlans);
    expect(response.status, response.text).toBe(409);
    expect(response.body.error.problems).toEqual([{
      field: 'tariffs[0]', line: lineOf(FIXTURE, 'id: iot-eu'),
      message: `changes the tariff of plan "iot-fleet" version ${TO_COME}, which has not taken effect: list plan "iot-fleet" in this catalog too, so that version is rewritten with it`,
    }]);
  });
});

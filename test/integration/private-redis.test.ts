// The private redis-server `npm start` runs when no REDIS_URL is given. It must die with the
// service, however the service dies, so that a restarted service is the only writer of the
// append-only file; and if it dies on its own, the service starts it again on the same files.
// Runs the built dist/ as a child process on its own DATA_DIR, with this file's PostgreSQL schema.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';
import { eventually, healthy, redisServersIn, startServiceProcess, type ServiceProcess } from '../support/service-process.js';

const SMS = 2;
const CUSTOMER = 'private-redis';
const OPENING_MICROS = 1_000_000_000n;
const PRICE_MICROS = 10_000n;
const START_TIMEOUT_MS = 90_000;
/** The shortest the configuration allows: the answers of charges expire while the test runs. */
const TTL_SECONDS = 60;

const contexts: TestContext[] = [];
const directories: string[] = [];
const services: ServiceProcess[] = [];

afterAll(async () => {
  for (const service of services) await service.crash();
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
  for (const context of contexts) await context.cleanup();
});

/** Each test its own DATA_DIR and schema: a fresh Redis must not meet another test's journal. */
async function isolated(name: string): Promise<{ dataDirectory: string; context: TestContext }> {
  const context = await createTestContext(name);
  contexts.push(context);
  const dataDirectory = await mkdtemp(join(tmpdir(), 'io-billing-private-redis-'));
  directories.push(dataDirectory);
  return { dataDirectory, context };
}

async function start(dataDirectory: string, context: TestContext): Promise<ServiceProcess> {
  const service = await startServiceProcess({
    DATA_DIR: dataDirectory, DATABASE_URL: context.databaseUrl, DATABASE_SCHEMA: context.schema, LOG_LEVEL: 'info',
    IDEMPOTENCY_TTL_SECONDS: String(TTL_SECONDS), VALIDITY_SECONDS: '30', EXPIRY_GRACE_SECONDS: '0',
  });
  services.push(service);
  expect(await eventually(() => healthy(service), START_TIMEOUT_MS), service.output()).toBe(true);
  return service;
}

async function request(service: ServiceProcess, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${service.httpUrl}${path}`, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

async function provision(service: ServiceProcess): Promise<void> {
  const steps: [string, string, unknown][] = [
    ['PUT', `/v1/rating-groups/${SMS}`, { name: 'sms', unit: 'events' }],
    ['PUT', '/v1/tariffs/private-redis-cents', { name: 'cents', currency: 'EUR', rates: [{ rating_group: SMS, price: '0.01' }] }],
    ['PUT', `/v1/customers/${CUSTOMER}`, { name: CUSTOMER, currency: 'EUR', tariff_id: 'private-redis-cents', time_zone: 'UTC' }],
    ['PUT', '/v1/devices/private-redis-dev', { customer_id: CUSTOMER }],
    ['POST', '/v1/top-ups', { top_up_id: 'private-redis-opening', customer_id: CUSTOMER, amount: '1000.00', currency: 'EUR' }],
  ];
  for (const [method, path, body] of steps) expect((await request(service, method, path, body)).status, path).toBeLessThan(300);
}

/** One SMS; true once answered with success, i.e. acknowledged. */
async function charge(service: ServiceProcess, eventId: string): Promise<boolean> {
  const answer = await request(service, 'POST', '/v1/charging/charge', { event_id: eventId, device_id: 'private-redis-dev', rating_group: SMS, units: '1' })
    .catch(() => ({ status: 0, body: undefined }));
  return answer.status === 200 && answer.body?.result === 'RESULT_CODE_SUCCESS';
}

async function chargeMany(service: ServiceProcess, label: string, count: number, acknowledged: Set<string>): Promise<void> {
  for (let index = 0; index < count; index++) {
    const eventId = `${label}-${index}`;
    if (await charge(service, eventId)) acknowledged.add(eventId);
  }
}

async function balanceMicros(service: ServiceProcess): Promise<bigint> {
  const answer = await request(service, 'GET', `/v1/balances/customers/${CUSTOMER}`);
  expect(answer.status).toBe(200);
  const [units, fraction = ''] = String(answer.body.wallet.balance).split('.');
  return BigInt(units!) * 1_000_000n + BigInt(fraction.padEnd(6, '0'));
}

/** The URL the newest private redis-server listens on, from the service's log. */
function privateRedisUrl(service: ServiceProcess): string {
  const urls = [...service.output().matchAll(/"url":"(redis:\/\/[^"]+)".*started a private redis-server/g)];
  expect(urls.length, service.output()).toBeGreaterThan(0);
  return urls[urls.length - 1]![1]!;
}

async function expiredKeys(url: string): Promise<number> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return Number(/expired_keys:(\d+)/.exec(await client.info('stats'))?.[1] ?? 0);
  } finally {
    client.disconnect();
  }
}

function checkAppendOnlyFile(redisDirectory: string): { valid: boolean; output: string } {
  const checked = spawnSync('redis-check-aof', [join(redisDirectory, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' });
  return { valid: checked.status === 0, output: `${checked.stdout}${checked.stderr}` };
}

function processGroupOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]!;
}

/** A service expected not to start: its exit code once it gives up, or 'still running' after START_TIMEOUT_MS. */
async function failedStart(dataDirectory: string, context: TestContext): Promise<{ code: number | null | 'still running'; output: string }> {
  const service = await startServiceProcess({ DATA_DIR: dataDirectory, DATABASE_URL: context.databaseUrl, DATABASE_SCHEMA: context.schema, LOG_LEVEL: 'info' });
  services.push(service);
  const exited = await eventually(() => service.child.exitCode !== null || service.child.signalCode !== null, START_TIMEOUT_MS);
  return { code: exited ? service.child.exitCode : 'still running', output: service.output() };
}

describe('the private redis-server', () => {
  it('dies with a service killed by SIGKILL, so the next one alone writes the AOF: it stays valid past a TTL and keeps every acknowledged write', async () => {
    const { dataDirectory, context } = await isolated('private redis crash');
    const redisDirectory = join(dataDirectory, 'redis');
    const acknowledged = new Set<string>();

    const first = await start(dataDirectory, context);
    await provision(first);
    await chargeMany(first, 'before-crash', 50, acknowledged);
    await first.crash();
    // Soft: before the fix the orphan stays, and what it then does to the AOF is checked below too.
    expect.soft(await eventually(() => redisServersIn(redisDirectory).length === 0, 30_000), 'no redis-server outlives the killed service').toBe(true);

    const second = await start(dataDirectory, context);
    expect.soft(redisServersIn(redisDirectory), 'one redis-server on the files').toHaveLength(1);
    await chargeMany(second, 'after-crash', 20, acknowledged);
    // Traffic until the answers of the first charges expire, written as DELs to the AOF.
    const redisUrl = privateRedisUrl(second);
    let round = 0;
    const expired = await eventually(async () => {
      await chargeMany(second, `during-ttl-${round++}`, 1, acknowledged);
      return (await expiredKeys(redisUrl)) >= 50;
    }, (TTL_SECONDS + 60) * 1000);
    expect(expired, 'the answers of the first charges expired').toBe(true);
    await chargeMany(second, 'after-ttl', 20, acknowledged);
    expect(await second.stop()).toBe(0);

    const aof = checkAppendOnlyFile(redisDirectory);
    expect(aof.valid, aof.output).toBe(true);
    const third = await start(dataDirectory, context);
    expect(await balanceMicros(third), 'every acknowledged charge, once').toBe(OPENING_MICROS - BigInt(acknowledged.size) * PRICE_MICROS);
    expect(await third.stop()).toBe(0);
    expect(await eventually(() => redisServersIn(redisDirectory).length === 0, 30_000), 'a clean stop leaves no redis-server').toBe(true);
  }, 300_000);

  it('is started again on the same files after kill -9, and the service recovers without a restart', async () => {
    const { dataDirectory, context } = await isolated('private redis kill');
    const redisDirectory = join(dataDirectory, 'redis');
    const acknowledged = new Set<string>();
    const service = await start(dataDirectory, context);
    await provision(service);
    await chargeMany(service, 'before-kill', 10, acknowledged);
    const [killed] = redisServersIn(redisDirectory);
    expect(killed).toBeDefined();

    process.kill(killed!, 'SIGKILL');
    expect(await eventually(async () => redisServersIn(redisDirectory).some((pid) => pid !== killed), 60_000), service.output()).toBe(true);
    expect(await eventually(() => healthy(service), 60_000), 'healthy again').toBe(true);
    expect(await eventually(() => charge(service, 'after-kill'), 30_000), 'charging again').toBe(true);
    acknowledged.add('after-kill');
    expect(await balanceMicros(service), 'the writes acknowledged before the kill are kept').toBe(OPENING_MICROS - BigInt(acknowledged.size) * PRICE_MICROS);
    expect(await service.stop()).toBe(0);
  }, 180_000);

  it('is stopped by the service, after its requests, when Ctrl-C signals the whole foreground job', async () => {
    const { dataDirectory, context } = await isolated('private redis ctrl c');
    const service = await startServiceProcess({ DATA_DIR: dataDirectory, DATABASE_URL: context.databaseUrl, DATABASE_SCHEMA: context.schema, LOG_LEVEL: 'info' }, { processGroup: true });
    services.push(service);
    expect(await eventually(() => healthy(service), START_TIMEOUT_MS), service.output()).toBe(true);
    const [redisPid] = redisServersIn(join(dataDirectory, 'redis'));
    expect(processGroupOf(redisPid!), 'Ctrl-C does not reach Redis directly').not.toBe(processGroupOf(service.child.pid!));
    const exited = new Promise<number | null>((resolve) => service.child.once('exit', (code) => resolve(code)));
    process.kill(-service.child.pid!, 'SIGINT');
    expect(await exited, service.output()).toBe(0);
    expect(service.output(), 'Redis was not restarted under a stopping service').not.toContain('starting it again');
    expect(redisServersIn(join(dataDirectory, 'redis'))).toEqual([]);
  }, 180_000);

  it('is not started twice on one DATA_DIR: a second service is refused while the first lives', async () => {
    const { dataDirectory, context } = await isolated('private redis lock');
    const first = await start(dataDirectory, context);
    const [running] = redisServersIn(join(dataDirectory, 'redis'));

    const second = await failedStart(dataDirectory, context);
    expect(second.code).toBe(1);
    expect(second.output).toContain(`in use by another running Io Billing process (pid ${first.child.pid})`);
    expect(redisServersIn(join(dataDirectory, 'redis')), 'the first service\'s Redis alone, untouched').toEqual([running]);
    expect(await healthy(first)).toBe(true);
    expect(await first.stop()).toBe(0);
  }, 180_000);

  it('says at once that a damaged append-only file stops the start, and how to repair it', async () => {
    const { dataDirectory, context } = await isolated('private redis damaged');
    const service = await start(dataDirectory, context);
    await provision(service);
    expect(await service.stop()).toBe(0);
    const incremental = join(dataDirectory, 'redis', 'appendonlydir', 'appendonly.aof.1.incr.aof');
    const bytes = await readFile(incremental);
    const marker = bytes.indexOf('*3\r\n', Math.floor(bytes.length / 2));
    expect(marker).toBeGreaterThan(0);
    bytes.write('?', marker); // a broken record in the middle
    await writeFile(incremental, bytes);

    const startedAt = Date.now();
    const restarted = await failedStart(dataDirectory, context);
    expect(restarted.code).toBe(1);
    expect(restarted.output).toMatch(/append-only file of the private Redis in .* is damaged/);
    expect(restarted.output).toContain(`redis-check-aof --fix ${join(dataDirectory, 'redis', 'appendonlydir', 'appendonly.aof.manifest')}`);
    expect(restarted.output).not.toContain('was not ready within');
    expect(Date.now() - startedAt, 'no waiting out a timeout').toBeLessThan(15_000);
  }, 180_000);
});

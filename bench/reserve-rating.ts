// The cost of rating inside the online reserve path, as a share of the request's CPU. The
// service runs in this process against a private Redis; devices subscribe to a plan with the
// simple or the complex tariff of bench/tariffs.ts. For each, new sessions reserve 1 MB (the
// complex ones from every zone, at every hour of a day), and the bench measures in one run:
//
// - a reserve's CPU: this process (the service's charging logic, no transport) plus Redis, over
//   the window, per call;
// - rating's CPU: what the service does to price the same reserves (the plan version in force,
//   the rate, the quotes for the script), repeated alone, per call.
//
// Transport (gRPC or HTTP) is left out of the reserve's CPU, so the share is an upper bound.
//
//   npm run bench:reserve-rating       BENCH_RESERVES (20000)
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { startApp, type App } from '../src/app.js';
import { ItemPricer, NEW_POSITION, newScriptItem } from '../src/charging/pricing.js';
import { periodsAt } from '../src/charging/periods.js';
import { ManualClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { createPool } from '../src/db/database.js';
import { findPostgres } from '../src/infra/find-postgres.js';
import { startRedisServer } from '../src/infra/redis-server.js';
import { ownCpuClock, redisCpuClock } from './process-cpu.js';
import { COMPLEX_TARIFF, COUNTRIES, DATA, SIMPLE_TARIFF } from './tariffs.js';

const RESERVES = Number(process.env['BENCH_RESERVES'] ?? 20_000);
const DEVICES = 200;
const CONCURRENCY = 32;
const PRICING_ROUNDS = 5;
const START_MS = Date.parse('2026-11-23T00:00:00Z');
const HOUR_MS = 3_600_000;
const MB = 1_000_000;
const NETWORKS = [{ mcc: '262', mnc: '01' }, { mcc: '262', mnc: '02' }, ...COUNTRIES.map((mcc) => ({ mcc, mnc: '10' })), { mcc: '999', mnc: '99' }];

interface Reserve {
  session_id: string;
  request_number: number;
  device_id: string;
  event_time: { seconds: string; nanos: number };
  location?: { mcc: string; mnc: string };
  items: { rating_group: number; requested_units: string }[];
}

const catalog = {
  rating_groups: [{ id: DATA, name: 'data', unit: 'bytes' }],
  tariffs: [{ id: 'simple', ...SIMPLE_TARIFF }, { id: 'complex', ...COMPLEX_TARIFF }],
  plans: ['simple', 'complex'].map((id) => ({ id, name: id, currency: 'EUR', versions: [{ effective_from: '2020-01-01T00:00:00Z', tariff: id, allowances: [], fees: [] }] })),
};

async function provision(app: App, kind: 'simple' | 'complex'): Promise<void> {
  await app.provisioning.putCustomer(kind, { name: kind, currency: 'EUR', time_zone: 'Europe/Berlin' });
  for (let device = 0; device < DEVICES; device++) await app.provisioning.putDevice(`${kind}-${device}`, { customer_id: kind });
  await app.subscriptions.put({ kind: 'customer', id: kind }, { plan_id: kind });
  await app.charging.topUp({ top_up_id: `opening-${kind}`, customer_id: kind, amount: '1000000.00', currency: 'EUR' });
}

function reserves(kind: 'simple' | 'complex'): Reserve[] {
  return Array.from({ length: RESERVES }, (_, index) => ({
    session_id: `${kind}-${index}`, request_number: 1, device_id: `${kind}-${index % DEVICES}`,
    event_time: { seconds: String((START_MS + (kind === 'complex' ? (index % 24) * HOUR_MS : 0)) / 1000), nanos: 0 },
    ...(kind === 'complex' ? { location: NETWORKS[index % NETWORKS.length]! } : {}),
    items: [{ rating_group: DATA, requested_units: String(MB) }],
  }));
}

/** CPU seconds per reserve of this process and of Redis, running them CONCURRENCY at a time. */
async function reserveCpu(app: App, redisCpu: () => Promise<number | undefined>, requests: Reserve[]): Promise<{ service: number; redis: number }> {
  const ownCpu = ownCpuClock();
  const [ownBefore, redisBefore] = [await ownCpu(), await redisCpu()];
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < requests.length) {
      const answer = await app.charging.reserve(requests[next++]!);
      if (answer.result !== 'RESULT_CODE_SUCCESS') throw new Error(`a reserve answered ${answer.result}`);
    }
  }));
  const [ownAfter, redisAfter] = [await ownCpu(), await redisCpu()];
  return { service: (ownAfter! - ownBefore!) / requests.length, redis: (redisAfter! - redisBefore!) / requests.length };
}

/** CPU seconds per reserve of pricing alone, as ChargingService prices a reserve's item. */
async function pricingCpu(app: App, requests: Reserve[]): Promise<number> {
  const ownCpu = ownCpuClock();
  const unit = app.catalog.ratingGroup(DATA)!.unit;
  const before = await ownCpu();
  for (let round = 0; round < PRICING_ROUNDS; round++) {
    for (const request of requests) {
      const device = (await app.catalog.resolveDevice(request.device_id))!;
      const atMs = Number(request.event_time.seconds) * 1000;
      const prices = await app.catalog.pricesAt(request.device_id, device, atMs);
      const pricer = new ItemPricer(prices!, DATA, unit, request.location, undefined, atMs, 'items[0].used_units');
      if (pricer.rule === undefined) throw new Error(`nothing prices ${request.device_id} at ${JSON.stringify(request.location)}`);
      newScriptItem(DATA, pricer, 0n, BigInt(MB), NEW_POSITION, 0n, periodsAt(device.profile.timeZone, atMs).month);
    }
  }
  return ((await ownCpu())! - before!) / (requests.length * PRICING_ROUNDS);
}

async function main(): Promise<void> {
  const redisServer = await startRedisServer();
  const database = await findPostgres({ useExisting: true, purpose: 'io-billing-bench' });
  const schema = `bench_rating_${randomBytes(4).toString('hex')}`;
  const pool = createPool(database.url, schema);
  const redis = new Redis(redisServer.url);
  const config = loadConfig({ DATABASE_SCHEMA: schema, REDIS_URL: redisServer.url, GRPC_PORT: '0', HTTP_PORT: '0', LEDGER_ENABLED: 'false', LOG_LEVEL: 'silent' });
  const app = await startApp({ config, redis, pool, clock: new ManualClock(START_MS), logger: pino({ level: 'silent' }), startBackgroundJobs: false });
  try {
    await app.catalogService.apply({ value: catalog }, { dryRun: false });
    await app.catalog.loadRatingGroups();
    console.log(`rating's share of a reserve, ${RESERVES.toLocaleString('en-US')} new sessions each, node ${process.version}`);
    for (const kind of ['simple', 'complex'] as const) {
      await provision(app, kind);
      const requests = reserves(kind);
      await reserveCpu(app, redisCpuClock(redis), requests.slice(0, 1000).map((request) => ({ ...request, session_id: `warm-${request.session_id}` })));
      const reserve = await reserveCpu(app, redisCpuClock(redis), requests);
      const rating = await pricingCpu(app, requests);
      const total = reserve.service + reserve.redis;
      const micros = (seconds: number) => `${(seconds * 1e6).toFixed(1)} µs`;
      console.log(`${kind.padEnd(8)} reserve: service ${micros(reserve.service)} + Redis ${micros(reserve.redis)} = ${micros(total)}; rating ${micros(rating)}: ${((rating / total) * 100).toFixed(1)} % of the reserve`);
    }
  } finally {
    await app.close();
    redis.disconnect();
    await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`).catch(() => undefined);
    await pool.end();
    await database.release();
    await redisServer.stop();
  }
}

await main();

// Devices resolve from each process's memory, yet a change made anywhere reaches every process:
// at once in the process that made it, through pub/sub in the others.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startApp, type App } from '../../src/app.js';
import { createPool } from '../../src/db/database.js';
import { GrpcClient, provisionFleet, ratingGroups, startTestService, type TestService } from '../support/service.js';

let service: TestService;
let second: App;
let secondClient: GrpcClient;
const SMS = 2;
const POLLS_MAX = 200;

beforeAll(async () => {
  service = await startTestService('catalog-cache');
  await ratingGroups(service, [[SMS, 'events']]);
  await service.http.ok('PUT', '/v1/tariffs/cheap', { name: 'cheap', currency: 'EUR', rates: [{ rating_group: SMS, price: '0.01' }] });
  await service.http.ok('PUT', '/v1/tariffs/dear', { name: 'dear', currency: 'EUR', rates: [{ rating_group: SMS, price: '0.05' }] });
  await provisionFleet(service, { customerId: 'cache', devices: ['cache-dev'], balance: '10.00' });
  // A second service process on the same Redis and PostgreSQL, as in a scaled-out deployment.
  const pool = createPool(service.context.databaseUrl, service.context.schema);
  second = await startApp({ config: service.config, redis: service.redis, pool, clock: service.clock, logger: pino({ level: 'silent' }), startBackgroundJobs: false });
  secondClient = new GrpcClient(`127.0.0.1:${second.grpcPort}`);
  afterAll(() => pool.end());
});

afterAll(async () => {
  secondClient?.close();
  await second?.close();
  await service?.close();
});

const setTariff = (tariffId: string) => service.http.ok('PUT', '/v1/customers/cache', { name: 'cache', currency: 'EUR', tariff_id: tariffId });
let events = 0;
const charge = (client: GrpcClient) => client.ok('Charge', { event_id: `cache-${++events}`, device_id: 'cache-dev', rating_group: SMS, units: '1' });

async function eventually(client: GrpcClient, expected: string): Promise<string> {
  for (let poll = 0; poll < POLLS_MAX; poll++) {
    const answer = await charge(client);
    if (answer.charged_amount === expected) return answer.charged_amount;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return 'never';
}

describe('the device and tariff caches', () => {
  it('prices with the new tariff at once in the process that changed it', async () => {
    await setTariff('cheap');
    expect((await charge(service.grpc)).charged_amount).toBe('0.010000');
    await setTariff('dear');
    expect((await charge(service.grpc)).charged_amount).toBe('0.050000');
  });

  it('reaches another process through the invalidation channel', async () => {
    await setTariff('cheap');
    expect(await eventually(secondClient, '0.010000')).toBe('0.010000');
    await setTariff('dear');
    expect(await eventually(secondClient, '0.050000')).toBe('0.050000');
  });

  it('answers from memory once a device is known: no directory read per request', async () => {
    await charge(secondClient);
    const directoryKey = service.app.keys.deviceDirectory('cache-dev');
    await service.redis.rename(directoryKey, `${directoryKey}-hidden`);
    try {
      expect((await charge(secondClient)).result).toBe('RESULT_CODE_SUCCESS');
    } finally {
      await service.redis.rename(`${directoryKey}-hidden`, directoryKey);
    }
  });
});

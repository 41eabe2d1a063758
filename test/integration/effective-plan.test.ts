// Which plan version prices a device: the catalog's plans and the subscriptions are projected
// into Redis, and each process resolves device → subscription → plan version → compiled tariff
// from memory, dropping its copies when a change is announced (at once in the process that made
// it, through pub/sub in the others).
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startApp, type App } from '../../src/app.js';
import { createPool } from '../../src/db/database.js';
import { projectPath } from '../../src/paths.js';
import { provisionFleet, startTestService, type TestService } from '../support/service.js';

const FIXTURE = parse(readFileSync(projectPath('test', 'fixtures', 'catalog', 'iot-plans.yaml'), 'utf8')) as { plans: { id: string; name: string; versions: unknown[] }[] };
const JANUARY_2027_MS = Date.parse('2027-01-01T00:00:00+01:00');
const POLLS_MAX = 200;

let service: TestService;

beforeAll(async () => {
  service = await startTestService('effective-plan');
  const lite = { ...FIXTURE.plans[0]!, id: 'iot-lite', name: 'IoT lite', versions: FIXTURE.plans[0]!.versions.slice(0, 1) };
  await service.http.ok('POST', '/v1/catalog/apply', { ...FIXTURE, plans: [...FIXTURE.plans, lite] });
  await provisionFleet(service, { customerId: 'fleet', devices: ['fleet-a', 'fleet-b'] });
  await service.http.ok('PUT', '/v1/customers/fleet/subscription', { plan_id: 'iot-fleet' });
});
afterAll(() => service?.close());

const effective = (app: App, device: string, atMs = service.clock.nowMs()) => app.catalog.effectivePlanAt(device, 'fleet', atMs);

describe('the plan version that prices a device', () => {
  it("is its customer's plan, in the version in force at the instant", async () => {
    const now = await effective(service.app, 'fleet-a');
    expect(now).toMatchObject({ planId: 'iot-fleet', scope: 'customer', version: { effectiveFromMs: Date.parse('2026-01-01T00:00:00+01:00'), tariffId: 'iot-eu' } });
    expect(now!.tariff).toMatchObject({ currency: 'EUR' });
    expect([...now!.tariff.rules.keys()], 'the snapshot, compiled: data and SMS rules').toEqual([1, 2]);
    expect((await effective(service.app, 'fleet-a', JANUARY_2027_MS))!.version.effectiveFromMs).toBe(JANUARY_2027_MS);
    expect(await effective(service.app, 'fleet-a', Date.parse('2025-06-01T00:00:00Z')), 'before the first version').toBeUndefined();
  });

  it("is the device's own plan where it has one, at once after the change", async () => {
    expect((await effective(service.app, 'fleet-b'))!.planId).toBe('iot-fleet');
    await service.http.ok('PUT', '/v1/devices/fleet-b/subscription', { plan_id: 'iot-lite' });
    expect(await effective(service.app, 'fleet-b')).toMatchObject({ planId: 'iot-lite', scope: 'device' });
    expect((await effective(service.app, 'fleet-a'))!.planId, 'its neighbour keeps the customer plan').toBe('iot-fleet');
  });

  it('reaches another process through pub/sub, and a first start projects plans and subscriptions again', async () => {
    const pool = createPool(service.context.databaseUrl, service.context.schema);
    // As if Redis had lost the catalog: the second process projects it from PostgreSQL at start.
    await service.redis.del(service.app.keys.plans(), service.app.keys.subscriptionDirectory('device', 'fleet-b'));
    await service.redis.hdel(service.app.keys.meta(), 'projected');
    const second = await startApp({ config: service.config, redis: service.redis, pool, clock: service.clock, logger: pino({ level: 'silent' }), startBackgroundJobs: false });
    try {
      expect((await effective(second, 'fleet-b'))!.planId).toBe('iot-lite');
      await service.http.ok('PUT', '/v1/devices/fleet-b/subscription', { plan_id: 'iot-fleet' });
      let seen: string | undefined;
      for (let poll = 0; poll < POLLS_MAX && seen !== 'iot-fleet'; poll++) {
        seen = (await effective(second, 'fleet-b'))?.planId;
        if (seen !== 'iot-fleet') await service.redis.ping(); // one round trip: the message can arrive meanwhile
      }
      expect(seen).toBe('iot-fleet');
    } finally {
      await second.close();
      await pool.end();
    }
  });
});

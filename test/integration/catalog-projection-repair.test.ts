// The catalog's writes that touch both stores: a catalog apply (rating groups, plans), a
// subscription and the allowances a plan grants are committed to PostgreSQL and projected into
// Redis. With Redis down between the two (a failure injected into the projection), PostgreSQL
// keeps the change marked, and the projection repair brings Redis to it; nothing is lost.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Directory } from '../../src/balance/directory.js';
import { Projection } from '../../src/balance/projection.js';
import { AllowanceGranter } from '../../src/catalog/allowance-granter.js';
import { CatalogService } from '../../src/catalog/catalog-service.js';
import { SubscriptionService } from '../../src/catalog/subscription-service.js';
import { projectPath } from '../../src/paths.js';
import { provisionFleet, startTestService, type TestService } from '../support/service.js';

const FIXTURE = parse(readFileSync(projectPath('test', 'fixtures', 'catalog', 'iot-plans.yaml'), 'utf8')) as object;
const DATA = 1;

let service: TestService;

beforeAll(async () => {
  service = await startTestService('catalog-projection-repair');
});
afterAll(() => service?.close());

/** Redis down for every catalog projection: PostgreSQL commits, Redis never hears of it. */
class RedisDownProjection extends Projection {
  override ratingGroup(): Promise<void> {
    return Promise.reject(new Error('injected: Redis is unreachable'));
  }

  override plan(): Promise<void> {
    return Promise.reject(new Error('injected: Redis is unreachable'));
  }

  override subscriptions(): Promise<void> {
    return Promise.reject(new Error('injected: Redis is unreachable'));
  }

  override allowance(): Promise<void> {
    return Promise.reject(new Error('injected: Redis is unreachable'));
  }
}

const redisDown = () => new RedisDownProjection(service.redis, service.app.keys);
const marks = async () => Number((await service.context.pool.query<{ count: string }>('SELECT count(*) AS count FROM pending_projections')).rows[0]!.count);

describe('catalog writes committed to PostgreSQL while Redis is down', () => {
  it('a catalog apply: its rating groups and plans are projected by the repair', async () => {
    await expect(new CatalogService(service.context.pool, redisDown(), service.clock).apply({ value: FIXTURE }, { dryRun: false })).rejects.toThrow(/injected/);
    expect((await service.context.pool.query("SELECT 1 FROM plans WHERE id = 'iot-fleet'")).rowCount, 'PostgreSQL has the plans').toBe(1);
    expect(await service.redis.hget(service.app.keys.plans(), 'iot-fleet'), 'Redis does not').toBeNull();
    expect(await service.redis.hget(service.app.keys.ratingGroups(), String(DATA))).toBeNull();
    const marked = await marks();
    expect(marked).toBeGreaterThan(0);

    expect(await service.app.projectionRepair.repairDue()).toBe(marked);
    expect(JSON.parse((await service.redis.hget(service.app.keys.plans(), 'iot-fleet'))!)).toMatchObject({ id: 'iot-fleet' });
    expect(JSON.parse((await service.redis.hget(service.app.keys.ratingGroups(), String(DATA)))!)).toMatchObject({ id: DATA });
    expect(await marks()).toBe(0);
  });

  it('a subscription, and the allowances its plan grants: projected by the repair, granted once', async () => {
    await service.app.catalog.loadRatingGroups();
    await provisionFleet(service, {
      customerId: 'grants', devices: ['grants-a', 'grants-b'], timeZone: 'Europe/Berlin',
      tariff: { id: 'grants-flat', rates: [{ rating_group: DATA, price: '1.00', per_units: 1_000_000_000, increment_units: 1 }] },
    });
    const subscribing = new SubscriptionService(service.context.pool, redisDown(), service.clock);
    await expect(subscribing.put({ kind: 'customer', id: 'grants' }, { plan_id: 'iot-fleet' })).rejects.toThrow(/injected/);
    expect((await service.http.ok('GET', '/v1/customers/grants/subscription')).current, 'PostgreSQL has it').toMatchObject({ plan_id: 'iot-fleet' });
    expect(await service.redis.get(service.app.keys.subscriptionDirectory('customer', 'grants')), 'Redis does not').toBeNull();

    const granter = new AllowanceGranter(service.context.pool, new Directory(service.redis, service.app.keys), redisDown(), service.clock, 60_000);
    // The pass stops at its first failed projection: the fleet's pooled grant is committed, the devices' wait.
    await expect(granter.grantDue()).rejects.toThrow(/injected/);
    const granted = Number((await service.context.pool.query<{ count: string }>("SELECT count(*) AS count FROM allowances WHERE customer_id = 'grants'")).rows[0]!.count);
    expect(granted, 'PostgreSQL has the pooled grant').toBe(1);
    expect((await service.grpc.ok('GetBalance', { customer_id: 'grants' })).allowances, 'Redis does not').toEqual([]);
    expect(await marks()).toBe(1 + 1);

    expect(await service.app.projectionRepair.repairDue()).toBe(1 + 1);
    expect(JSON.parse((await service.redis.get(service.app.keys.subscriptionDirectory('customer', 'grants')))!)).toMatchObject([{ planId: 'iot-fleet' }]);
    const allowances = async (deviceId?: string) => (await service.grpc.ok('GetBalance', deviceId === undefined ? { customer_id: 'grants' } : { device_id: deviceId })).allowances as unknown[];
    expect(await allowances()).toHaveLength(1);
    expect(await service.app.granter.grantDue(), "the next pass grants the devices' bundles, not the pooled one again").toEqual({ subscriptions: 1, granted: 2 });
    expect(await allowances('grants-a')).toHaveLength(2);
    expect(await service.app.granter.grantDue()).toEqual({ subscriptions: 1, granted: 0 });
    expect(await marks()).toBe(0);
  });
});

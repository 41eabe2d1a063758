// The service unchanged on a 3-master Redis Cluster: every key one script touches shares its
// partition's hash tag, so reserve, commit, charge, top-up, release and expiry all run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type RedisClusterHandle } from '../support/redis-cluster.js';
import { Journal } from '../../src/ledger/journal.js';
import { Rebuilder } from '../../src/ledger/rebuilder.js';
import { expectConserved } from '../support/conservation.js';
import { provisionFleet, ratingGroups, startTestService, type TestService } from '../support/service.js';

let cluster: RedisClusterHandle;
let service: TestService;
const SMS = 2;
const CUSTOMERS = ['north', 'south', 'east', 'west', 'centre', 'harbour'];

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  service = await startTestService('cluster', { redis: { clusterNodes: cluster.nodes }, environment: { PARTITION_COUNT: '16' } });
  await ratingGroups(service, [[SMS, 'events']]);
  await service.app.catalog.loadRatingGroups();
  await service.http.ok('PUT', '/v1/tariffs/cents', { name: 'cents', currency: 'EUR', rates: [{ rating_group: SMS, price: '0.01' }] });
  for (const customer of CUSTOMERS) {
    await provisionFleet(service, { customerId: customer, devices: [`${customer}-1`, `${customer}-2`], balance: '1.00' });
    await service.http.ok('PUT', `/v1/customers/${customer}`, { name: customer, currency: 'EUR', tariff_id: 'cents' });
  }
}, 120_000);

afterAll(async () => {
  await service?.close();
  await cluster?.stop();
});

describe('on a Redis Cluster', () => {
  it('spreads the customers over more than one master', async () => {
    const slots = await Promise.all(CUSTOMERS.map((customer) => service.redis.cluster('KEYSLOT', service.app.keys.wallet(customer)) as Promise<number>));
    const owners = new Set(slots.map((slot) => Math.floor(slot / (16384 / 3))));
    expect(owners.size).toBeGreaterThan(1);
  });

  it('runs the core flows for every customer and keeps the books', async () => {
    for (const customer of CUSTOMERS) {
      const device = `${customer}-1`;
      const grant = await service.grpc.ok('Reserve', { session_id: `${customer}-s`, request_number: 1, device_id: device, items: [{ rating_group: SMS, requested_units: '150' }] });
      expect(grant.items[0]).toMatchObject({ granted_units: '100', final_unit_action: 'FINAL_UNIT_ACTION_TERMINATE' });
      await service.grpc.ok('Commit', { session_id: `${customer}-s`, request_number: 2, device_id: device, items: [{ rating_group: SMS, used_units: '40', requested_units: '10' }] });
      await service.grpc.ok('Release', { session_id: `${customer}-s`, request_number: 3, device_id: device });
      await service.grpc.ok('TopUp', { top_up_id: `${customer}-t`, customer_id: customer, amount: '0.50', currency: 'EUR' });
      expect((await service.grpc.ok('Charge', { event_id: `${customer}-e`, device_id: `${customer}-2`, rating_group: SMS, units: '10' })).result).toBe('RESULT_CODE_SUCCESS');
      expect((await service.grpc.ok('GetBalance', { device_id: device })).wallet).toMatchObject({ balance: '1.000000', held: '0.000000' });
      await expectConserved(service, customer);
    }
  });

  it('sweeps expired holds in every partition', async () => {
    for (const customer of CUSTOMERS) {
      await service.grpc.ok('Reserve', { session_id: `${customer}-x`, request_number: 1, device_id: `${customer}-2`, items: [{ rating_group: SMS, requested_units: '5' }] });
    }
    service.clock.advance(86_400_000);
    expect(await service.app.sweeper.sweepOnce()).toBe(CUSTOMERS.length);
    for (const customer of CUSTOMERS) expect((await service.grpc.ok('GetBalance', { customer_id: customer })).wallet.held).toBe('0.000000');
  });

  it('journals the events of every partition through its consumer group, and the journal reconciles with the cluster', async () => {
    expect(await service.app.ledger.drainOnce()).toBeGreaterThan(CUSTOMERS.length * 5);
    expect(await service.app.ledger.drainOnce()).toBe(0);
    expect(await service.http.ok('GET', '/v1/ledger/reconciliation')).toEqual({ customers: CUSTOMERS.length, differences: [] });
    // The traffic above ended just now, which every partition's stream says on its own node.
    const refused = await service.http.request('POST', '/v1/ledger/rebuild');
    expect(refused.body.error, refused.text).toMatchObject({ code: 'CHARGING_IN_PROGRESS' });
    // Once quiet (no minute to wait here), restoring from the journal what the cluster already holds changes nothing.
    const before = await Promise.all(CUSTOMERS.map((customer) => service.grpc.ok('GetBalance', { customer_id: customer })));
    const { app, context, redis, clock } = service;
    const quietRebuilder = new Rebuilder(context.pool, redis, app.keys, new Journal(context.pool, clock), app.ledger, clock, 0);
    expect(await quietRebuilder.rebuild()).toEqual({ customers: CUSTOMERS.length, voided_held_micros: '0' });
    expect(await Promise.all(CUSTOMERS.map((customer) => service.grpc.ok('GetBalance', { customer_id: customer })))).toEqual(before);
  });
});

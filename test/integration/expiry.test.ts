// Nothing is held forever: a reservation nobody commits or releases is released by the sweep
// once its validity and grace have passed, on an injected clock, and the release is an event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectConserved, readLedger } from '../support/conservation.js';
import { provisionFleet, ratingGroups, startTestService, type TestService } from '../support/service.js';

let service: TestService;
const DATA = 1;
const VALIDITY_MS = 600_000;
const GRACE_MS = 60_000;

beforeAll(async () => {
  service = await startTestService('expiry', { environment: { VALIDITY_SECONDS: '600', EXPIRY_GRACE_SECONDS: '60', SWEEP_BATCH_MAX: '3' } });
  await ratingGroups(service, [[DATA, 'bytes']]);
  await service.app.catalog.loadRatingGroups();
  await provisionFleet(service, {
    customerId: 'exp', devices: ['exp-a', 'exp-b'], balance: '10.00',
    tariff: { id: 'per-mb', rates: [{ rating_group: DATA, price: '1.00', per_units: 1_000_000, increment_units: 1000 }] },
  });
  await service.http.ok('POST', '/v1/customers/exp/allowances', {
    id: 'exp-bundle', rating_group: DATA, units_total: 1_000_000, valid_from: '2026-01-01T00:00:00Z', valid_until: '2027-01-01T00:00:00Z',
  });
});
afterAll(() => service?.close());

const wallet = async () => (await service.grpc.ok('GetBalance', { customer_id: 'exp' }));

describe('expiry of stale reservations', () => {
  it('keeps a hold through its validity and grace, then releases it, allowance and money alike', async () => {
    const grant = await service.grpc.ok('Reserve', { session_id: 'stale', request_number: 1, device_id: 'exp-a', items: [{ rating_group: DATA, requested_units: '3000000' }] });
    expect(grant.items[0]).toMatchObject({ granted_units: '3000000', allowance_units: '1000000', reserved_amount: '2.000000', validity_seconds: 600 });

    service.clock.advance(VALIDITY_MS + GRACE_MS - 1);
    expect(await service.app.sweeper.sweepOnce()).toBe(0);
    expect((await wallet()).wallet.held).toBe('2.000000');

    service.clock.advance(1);
    expect(await service.app.sweeper.sweepOnce()).toBe(1);
    const after = await wallet();
    expect(after.wallet).toMatchObject({ balance: '10.000000', held: '0.000000' });
    expect(after.allowances[0]).toMatchObject({ units_held: '0', units_used: '0' });
    const ledger = await expectConserved(service, 'exp');
    const expiry = ledger.events.filter((event) => event.type === 'expiry');
    expect(expiry).toHaveLength(1);
    expect(expiry[0]!.data).toMatchObject({ sid: 'stale', items: [{ rg: '1', ru: '3000000', rm: '2000000' }] });
  });

  it('releases a hold of a session indexed before sessions were scoped by device', async () => {
    await service.grpc.ok('Reserve', { session_id: 'old-layout', request_number: 1, device_id: 'exp-b', items: [{ rating_group: DATA, requested_units: '2000000' }] });
    // As the layout before the upgrade wrote it: `s:<session>`, indexed as "<rating group>:<session>".
    const { keys } = service.app;
    const prefix = keys.customerPrefix('exp');
    await service.redis.rename(keys.session('exp', 'exp-b', 'old-layout'), `${prefix}s:old-layout`);
    const score = await service.redis.zscore(keys.expiryIndex(keys.partitionOf('exp')), `${DATA}:exp-b old-layout`);
    await service.redis.zrem(keys.expiryIndex(keys.partitionOf('exp')), `${DATA}:exp-b old-layout`);
    await service.redis.zadd(keys.expiryIndex(keys.partitionOf('exp')), score!, `${DATA}:old-layout`);
    expect(BigInt(await service.redis.hget(keys.wallet('exp'), 'held') ?? '0')).toBeGreaterThan(0n);

    service.clock.advance(VALIDITY_MS + GRACE_MS);
    await service.app.sweeper.sweepOnce();
    expect((await wallet()).wallet.held).toBe('0.000000');
    await expectConserved(service, 'exp');
  });

  it('still charges usage reported after the hold expired', async () => {
    await service.grpc.ok('Reserve', { session_id: 'late', request_number: 1, device_id: 'exp-a', items: [{ rating_group: DATA, requested_units: '2000000' }] });
    service.clock.advance(VALIDITY_MS + GRACE_MS);
    await service.app.sweeper.sweepOnce();
    const before = (await wallet()).wallet.balance;
    const late = await service.grpc.ok('Commit', { session_id: 'late', request_number: 2, device_id: 'exp-a', final: true, items: [{ rating_group: DATA, used_units: '1500000' }] });
    expect(late.items[0]).toMatchObject({ charged_units: '1500000' });
    expect(Number((await wallet()).wallet.balance)).toBeLessThan(Number(before));
    await expectConserved(service, 'exp');
  });

  it('renews the expiry with every grant, so an active session is never swept', async () => {
    await service.grpc.ok('Reserve', { session_id: 'active', request_number: 1, device_id: 'exp-b', items: [{ rating_group: DATA, requested_units: '1000' }] });
    for (let number = 2; number <= 4; number++) {
      service.clock.advance(VALIDITY_MS - 1000);
      await service.grpc.ok('Commit', { session_id: 'active', request_number: number, device_id: 'exp-b', items: [{ rating_group: DATA, used_units: '1000', requested_units: '1000' }] });
      expect(await service.app.sweeper.sweepOnce()).toBe(0);
    }
    await service.grpc.ok('Release', { session_id: 'active', request_number: 5, device_id: 'exp-b' });
  });

  it('catches up on every overdue hold after a long outage, in bounded batches', async () => {
    for (let index = 0; index < 10; index++) {
      await service.grpc.ok('Reserve', { session_id: `outage-${index}`, request_number: 1, device_id: 'exp-b', items: [{ rating_group: DATA, requested_units: '1000' }] });
    }
    expect((await wallet()).wallet.held).not.toBe('0.000000');
    service.clock.advance(7 * 86_400_000);
    expect(await service.app.sweeper.sweepOnce()).toBe(10);
    expect((await wallet()).wallet.held).toBe('0.000000');
    const ledger = await readLedger(service, 'exp');
    expect(ledger.events.filter((event) => event.type === 'expiry' && String(event.data.sid).startsWith('outage-'))).toHaveLength(10);
    await expectConserved(service, 'exp');
  });
});

// No overdraft under concurrency: many parallel requests on one pooled wallet, with both sides
// of every invariant asserted at the end (vector I3, and a storm of partial reservations).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectConserved } from '../support/conservation.js';
import { provisionFleet, ratingGroups, startTestService, type TestService } from '../support/service.js';

let service: TestService;
const SMS = 2;
const SMS_CENT = { rating_group: SMS, price: '0.01', per_units: 1, increment_units: 1 };
const devices = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}-${index}`);

beforeAll(async () => {
  service = await startTestService('concurrency');
  await ratingGroups(service, [[SMS, 'events']]);
  await service.app.catalog.loadRatingGroups();
});
afterAll(() => service?.close());

describe('vector I3: 2,000 concurrent one-shot charges on a 10.00 wallet', () => {
  it('succeeds exactly 1,000 times, refuses exactly 1,000, and ends at 0.00', async () => {
    const fleet = devices('i3', 50);
    await provisionFleet(service, { customerId: 'i3', devices: fleet, balance: '10.00', tariff: { id: 'i3-cents', rates: [SMS_CENT] } });
    const answers = await Promise.all(Array.from({ length: 2000 }, (_, index) =>
      service.grpc.ok('Charge', { event_id: `i3-${index}`, device_id: fleet[index % fleet.length], rating_group: SMS, units: '1' })));
    const count = (result: string) => answers.filter((answer) => answer.result === result).length;
    expect(count('RESULT_CODE_SUCCESS')).toBe(1000);
    expect(count('RESULT_CODE_CREDIT_LIMIT_REACHED')).toBe(1000);
    const balance = await service.grpc.ok('GetBalance', { customer_id: 'i3' });
    expect(balance.wallet).toMatchObject({ balance: '0.000000', held: '0.000000', available: '0.000000' });
    const ledger = await expectConserved(service, 'i3');
    expect(ledger.chargeEvents).toBe(1000);
  });
});

describe('a storm of reservations larger than the wallet', () => {
  it('never holds more than the wallet, and charges exactly what was granted', async () => {
    const fleet = devices('storm', 100);
    await provisionFleet(service, { customerId: 'storm', devices: fleet, balance: '5.00', tariff: { id: 'storm-cents', rates: [SMS_CENT] } });
    const grants = await Promise.all(fleet.map((device) =>
      service.grpc.ok('Reserve', { session_id: `storm-${device}`, request_number: 1, device_id: device, items: [{ rating_group: SMS, requested_units: '100' }] })));
    const granted = grants.reduce((sum, grant) => sum + BigInt(grant.items[0].granted_units), 0n);
    expect(granted).toBe(500n);
    expect((await service.grpc.ok('GetBalance', { customer_id: 'storm' })).wallet).toMatchObject({ held: '5.000000', available: '0.000000' });
    await expectConserved(service, 'storm');

    await Promise.all(fleet.map((device, index) => service.grpc.ok('Commit', {
      session_id: `storm-${device}`, request_number: 2, device_id: device, final: true,
      items: [{ rating_group: SMS, used_units: grants[index].items[0].granted_units }],
    })));
    expect((await service.grpc.ok('GetBalance', { customer_id: 'storm' })).wallet).toMatchObject({ balance: '0.000000', held: '0.000000' });
    await expectConserved(service, 'storm');
  });

  it('keeps the books exact while sessions reserve, report and release all at once', async () => {
    const fleet = devices('mix', 40);
    await provisionFleet(service, { customerId: 'mix', devices: fleet, balance: '3.00', tariff: { id: 'mix-cents', rates: [SMS_CENT] } });
    await Promise.all(fleet.map(async (device, index) => {
      const session = `mix-${device}`;
      const first = await service.grpc.ok('Reserve', { session_id: session, request_number: 1, device_id: device, items: [{ rating_group: SMS, requested_units: '20' }] });
      const used = Number(first.items[0].granted_units) - (index % 3);
      await service.grpc.ok('Commit', { session_id: session, request_number: 2, device_id: device, items: [{ rating_group: SMS, used_units: String(Math.max(used, 0)), requested_units: '5' }] });
      if (index % 2 === 0) await service.grpc.ok('Release', { session_id: session, request_number: 3, device_id: device });
    }));
    const wallet = (await service.grpc.ok('GetBalance', { customer_id: 'mix' })).wallet;
    expect(Number(wallet.available)).toBeGreaterThanOrEqual(0);
    await expectConserved(service, 'mix');
  });
});

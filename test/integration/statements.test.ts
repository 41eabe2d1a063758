// A prepaid customer's monthly statement, from the journal alone, on a clock the test moves:
// opening balance, top-ups, usage by rating group, closing balance, in the customer's periods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionFleet, ratingGroups, startTestService, type TestService } from '../support/service.js';

let service: TestService;
const DATA = 1;
const SMS = 2;

beforeAll(async () => {
  service = await startTestService('statements');
  await ratingGroups(service, [[DATA, 'bytes'], [SMS, 'events']]);
  await service.app.catalog.loadRatingGroups();
  // The clock starts on 2026-11-23 at 10:00 UTC; the customer's months start at Paris midnight.
  await provisionFleet(service, {
    customerId: 'monthly', devices: ['monthly-dev'], balance: '10.00', timeZone: 'Europe/Paris',
    tariff: { id: 'monthly-tariff', rates: [{ rating_group: DATA, price: '1.00', per_units: 1_000_000, increment_units: 1000 }, { rating_group: SMS, price: '0.01' }] },
  });
});
afterAll(() => service?.close());

async function spend(prefix: string, bytes: number, sms: number): Promise<void> {
  await service.grpc.ok('Reserve', { session_id: `${prefix}-data`, request_number: 1, device_id: 'monthly-dev', items: [{ rating_group: DATA, requested_units: String(bytes) }] });
  await service.grpc.ok('Commit', { session_id: `${prefix}-data`, request_number: 2, device_id: 'monthly-dev', final: true, items: [{ rating_group: DATA, used_units: String(bytes) }] });
  for (let index = 0; index < sms; index++) await service.grpc.ok('Charge', { event_id: `${prefix}-sms-${index}`, device_id: 'monthly-dev', rating_group: SMS, units: '1' });
}

describe('statements', () => {
  it('sum each month from the journal, and the next month opens where the last closed', async () => {
    await spend('nov', 2_000_000, 5);
    service.clock.advance(Date.parse('2026-12-01T00:30:00+01:00') - service.clock.nowMs()); // just past Paris midnight
    await service.grpc.ok('TopUp', { top_up_id: 'dec-top-up', customer_id: 'monthly', amount: '3.00', currency: 'EUR' });
    await spend('dec', 500_000, 2);
    await service.app.ledger.drainOnce();

    const november = await service.http.ok('GET', '/v1/customers/monthly/statement?at=2026-11-15T12:00:00Z');
    expect(november).toEqual({
      customer_id: 'monthly', currency: 'EUR',
      period: { start_date: '2026-11-01', end_date: '2026-12-01', start: '2026-10-31T23:00:00.000Z', end: '2026-11-30T23:00:00.000Z', closed: true },
      opening_balance: '0.000000', top_ups: '10.000000', charges: '2.050000', closing_balance: '7.950000',
      usage: [{ rating_group: DATA, units: '2000000', amount: '2.000000' }, { rating_group: SMS, units: '5', amount: '0.050000' }],
    });
    const december = await service.http.ok('GET', '/v1/customers/monthly/statement');
    expect(december).toMatchObject({
      period: { start_date: '2026-12-01', end_date: '2027-01-01', closed: false },
      opening_balance: '7.950000', top_ups: '3.000000', charges: '0.520000', closing_balance: '10.430000',
      usage: [{ rating_group: DATA, units: '500000', amount: '0.500000' }, { rating_group: SMS, units: '2', amount: '0.020000' }],
    });
    expect((await service.grpc.ok('GetBalance', { customer_id: 'monthly' })).wallet.balance).toBe(december.closing_balance);
  });

  it.each([
    ['an unknown customer', '/v1/customers/nobody/statement', 404, 'NOT_FOUND', 'id'],
    ['an instant that is not RFC 3339', '/v1/customers/monthly/statement?at=yesterday', 400, 'INVALID_ARGUMENT', 'at'],
  ])('refuses %s, naming the field', async (_name, path, status, code, field) => {
    const refused = await service.http.request('GET', path);
    expect(refused.status).toBe(status);
    expect(refused.body.error).toMatchObject({ code, field });
  });
});

// A month of volume tiers, settled on the invoice. Online the pool's data and each device's SMS
// are charged the running maximum; the month ends inside a catch-up stretch, so the invoice
// credits the difference to the price of the tier reached, for the pool and for the device.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/service.js';

const DATA = 1;
const SMS = 2;
const MB = 1_000_000;
let service: TestService;

beforeAll(async () => {
  service = await startTestService('volume-adjustment');
  await service.http.ok('POST', '/v1/catalog/apply', {
    rating_groups: [{ id: DATA, name: 'data', unit: 'bytes' }, { id: SMS, name: 'sms', unit: 'events' }],
    tariffs: [{
      id: 'volume-eu', name: 'Volume', currency: 'EUR',
      rates: [
        { rating_group: DATA, tier_scope: 'customer', intervals: [{ increment_units: 1000, per_units: MB, tiers: { mode: 'volume', steps: [{ up_to_units: 10 * MB, price: '1.00' }, { price: '0.50' }] } }] },
        { rating_group: SMS, tier_scope: 'device', intervals: [{ increment_units: 1, tiers: { mode: 'volume', steps: [{ up_to_units: 3, price: '0.10' }, { price: '0.05' }] } }] },
      ],
    }],
    plans: [{ id: 'volume-plan', name: 'Volume', currency: 'EUR', versions: [{ effective_from: '2026-01-01T00:00:00Z', tariff: 'volume-eu' }] }],
  });
  await service.app.catalog.loadRatingGroups();
  await service.http.ok('PUT', '/v1/customers/vol', { name: 'vol', currency: 'EUR', time_zone: 'UTC', billing_mode: 'postpaid', credit_limit: '100' });
  for (const device of ['vol-a', 'vol-b']) await service.http.ok('PUT', `/v1/devices/${device}`, { customer_id: 'vol' });
  await service.http.ok('PUT', '/v1/customers/vol/subscription', { plan_id: 'volume-plan' });
});
afterAll(() => service?.close());

async function data(device: string, used: number): Promise<string> {
  const session = `vol-${device}-${used}`;
  await service.grpc.ok('Reserve', { session_id: session, request_number: 1, device_id: device, items: [{ rating_group: DATA, requested_units: String(used) }] });
  const answer = await service.grpc.ok('Commit', { session_id: session, request_number: 2, device_id: device, final: true, items: [{ rating_group: DATA, used_units: String(used) }] });
  return answer.items[0].charged_amount;
}

const sms = async (device: string, count: number) => {
  const amounts: string[] = [];
  for (let n = 0; n < count; n++) amounts.push((await service.grpc.ok('Charge', { event_id: `${device}-sms-${n}`, device_id: device, rating_group: SMS, units: '1' })).charged_amount);
  return amounts;
};

describe('volume tiers over a month', () => {
  it('are charged the running maximum online, and settled at the tier reached on the invoice', async () => {
    expect(await data('vol-a', 7 * MB)).toBe('7.000000');
    expect(await data('vol-b', 5 * MB), '3 MB to reach 10 MB, then free while 0.50 catches up').toBe('3.000000');
    expect(await sms('vol-a', 5)).toEqual(['0.100000', '0.100000', '0.100000', '0.000000', '0.000000']);
    expect(await sms('vol-b', 2)).toEqual(['0.100000', '0.100000']);
    await service.app.ledger.drainOnce();
    await service.http.ok('POST', '/v1/billing/runs', { as_of: '2026-12-01T06:00:00Z' });
    const [invoice] = (await service.http.ok('GET', '/v1/customers/vol/invoices')).items;
    const detail = await service.http.ok('GET', `/v1/invoices/${invoice.id}`);
    expect(detail.lines.map((line: Record<string, unknown>) => [line.kind, line.description, line.device_id, line.units, line.amount])).toEqual([
      ['usage', 'rating group 1', null, '12000000', '10.000000'],
      ['usage', 'rating group 2', null, '7', '0.500000'],
      // 12 MB all at 0.50 is 6.00; the pool was charged 10.00.
      ['adjustment', 'volume tier adjustment, rating group 1, 2026-11', null, '12000000', '-4.000000'],
      // 5 SMS all at 0.05 is 0.25; the device was charged 0.30. Its neighbour stayed in the first tier.
      ['adjustment', 'volume tier adjustment, rating group 2, 2026-11', 'vol-a', '5', '-0.050000'],
    ]);
    expect(detail).toMatchObject({ subtotal: '6.450000', total: '6.450000' });
    expect((await service.http.ok('POST', '/v1/billing/runs', { as_of: '2026-12-01T06:00:00Z' })).invoiced, 'again: nothing new').toEqual([]);
  });
});

// Invoices with a grace period (INVOICE_GRACE_HOURS): a closed period is first a draft, which later
// runs rewrite with usage that reached the journal meanwhile, so it lands on its own period rather
// than on the next invoice as late usage; once the grace has passed, or when asked, the draft is
// issued and numbered. A draft cannot be paid, voided or credited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionFleet, ratingGroups, startTestService, type TestService } from '../support/service.js';

const SMS = 2;
let service: TestService;

beforeAll(async () => {
  service = await startTestService('invoice-drafts', { environment: { INVOICE_GRACE_HOURS: '72' } });
  await ratingGroups(service, [[SMS, 'events']]);
  await service.app.catalog.loadRatingGroups();
  for (const customer of ['slow', 'eager']) {
    await provisionFleet(service, { customerId: customer, devices: [`${customer}-dev`], tariff: { id: 'draft-sms', rates: [{ rating_group: SMS, price: '0.10' }] } });
    await service.http.ok('PUT', `/v1/customers/${customer}`, { name: customer, currency: 'EUR', time_zone: 'UTC', tariff_id: 'draft-sms', billing_mode: 'postpaid', credit_limit: '10' });
  }
});
afterAll(() => service?.close());

const sms = (customer: string, n: number) => service.grpc.ok('Charge', { event_id: `${customer}-${n}`, device_id: `${customer}-dev`, rating_group: SMS, units: '1' });
const run = async (asOf: string) => service.http.ok('POST', '/v1/billing/runs', { as_of: asOf });
const at = (instant: string) => service.clock.set(Date.parse(instant));

describe('draft invoices', () => {
  it('are refreshed with usage journaled during the grace, then issued and numbered', async () => {
    for (let n = 0; n < 3; n++) await sms('slow', n);
    await service.app.ledger.drainOnce();
    at('2026-11-30T23:00:00Z');
    await sms('slow', 3); // reaches the journal only after the period closed
    at('2026-12-01T06:00:00Z');
    expect(await run('2026-12-01T06:00:00Z')).toMatchObject({ invoiced: [], drafts: ['DRAFT-slow-2026-11-01'] });
    const draft = await service.http.ok('GET', '/v1/invoices/DRAFT-slow-2026-11-01');
    expect(draft).toMatchObject({ status: 'draft', issued_at: null, due_at: null, total: '0.300000' });
    expect((await service.http.request('GET', '/v1/invoices/DRAFT-slow-2026-11-01/html')).text).toContain('draft, not issued yet');

    const refusals = [
      await service.http.request('POST', '/v1/payments', { payment_id: 'pay-draft', customer_id: 'slow', invoice_id: 'DRAFT-slow-2026-11-01', amount: '0.30', currency: 'EUR', method: 'transfer' }),
      await service.http.request('POST', '/v1/invoices/DRAFT-slow-2026-11-01/void'),
      await service.http.request('POST', '/v1/invoices/DRAFT-slow-2026-11-01/credit-notes', { request_id: 'cn-draft', amount: '0.10', reason: 'goodwill' }),
    ];
    expect(refusals.map((refusal) => [refusal.status, refusal.body.error.field])).toEqual([[409, 'invoice_id'], [409, 'id'], [409, 'id']]);

    at('2026-12-02T00:00:00Z');
    await service.app.ledger.drainOnce();
    expect(await run('2026-12-02T00:00:00Z')).toMatchObject({ invoiced: [], drafts: ['DRAFT-slow-2026-11-01'] });
    expect((await service.http.ok('GET', '/v1/invoices/DRAFT-slow-2026-11-01')).total, 'rewritten with the late SMS').toBe('0.400000');

    at('2026-12-04T00:00:00Z');
    expect(await run('2026-12-04T00:00:00Z')).toMatchObject({ invoiced: ['INV-2026-000001'], drafts: [] });
    expect((await service.http.request('GET', '/v1/invoices/DRAFT-slow-2026-11-01')).status, 'the draft gave way').toBe(404);
    const issued = await service.http.ok('GET', '/v1/invoices/INV-2026-000001');
    expect(issued).toMatchObject({ status: 'issued', issued_at: '2026-12-04T00:00:00.000Z', total: '0.400000' });
    expect(issued.lines.map((line: { description: string; units: string }) => [line.description, line.units])).toEqual([['rating group 2', '4']]);
    expect(await run('2026-12-05T00:00:00Z'), 'nothing twice').toMatchObject({ invoiced: [], drafts: [] });
  });

  it('can be issued before the grace has passed', async () => {
    at('2026-12-10T00:00:00Z');
    await sms('eager', 0);
    await service.app.ledger.drainOnce();
    at('2027-01-01T06:00:00Z');
    expect((await run('2027-01-01T06:00:00Z')).drafts).toContain('DRAFT-eager-2026-12-01');
    expect(await service.http.ok('POST', '/v1/invoices/DRAFT-eager-2026-12-01/issue')).toEqual({ invoice_id: 'INV-2027-000001' });
    expect(await service.http.ok('GET', '/v1/invoices/INV-2027-000001')).toMatchObject({ status: 'issued', total: '0.100000', due_at: '2027-01-31T06:00:00.000Z' });
    expect((await service.http.request('POST', '/v1/invoices/INV-2027-000001/issue')).status, 'only a draft is issued').toBe(404);
  });
});

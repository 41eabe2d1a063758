// Invoices carry the recurring fees of the plans in force: per device, prorated by the days the
// plan covered it in the fee's month while it was in service (activated, not yet deactivated).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectPath } from '../../src/paths.js';
import { provisionFleet, startTestService, type TestService } from '../support/service.js';

const FIXTURE = parse(readFileSync(projectPath('test', 'fixtures', 'catalog', 'iot-plans.yaml'), 'utf8')) as object;
let service: TestService;

beforeAll(async () => {
  service = await startTestService('invoice-fees');
  await service.http.ok('POST', '/v1/catalog/apply', FIXTURE);
  await provisionFleet(service, { customerId: 'fleet', devices: ['fleet-a', 'fleet-b'], timeZone: 'Europe/Paris' });
  await service.http.ok('PUT', '/v1/customers/fleet', { name: 'fleet', currency: 'EUR', time_zone: 'Europe/Paris', billing_mode: 'postpaid' });
  // From the test clock's start, 2026-11-23 (Paris): 8 of November's 30 days.
  await service.http.ok('PUT', '/v1/customers/fleet/subscription', { plan_id: 'iot-fleet' });
});
afterAll(() => service?.close());

describe('recurring fees on invoices', () => {
  it('charges each device the plan covered, prorated by its days in the month', async () => {
    expect((await service.http.ok('POST', '/v1/billing/runs', { as_of: '2026-12-01T06:00:00Z' })).invoiced).toEqual(['INV-2026-000001']);
    const invoice = await service.http.ok('GET', '/v1/invoices/INV-2026-000001');
    expect(invoice).toMatchObject({ customer_id: 'fleet', period_start: '2026-11-01', subtotal: '0.800000', tax: '0.000000', total: '0.800000' });
    expect(invoice.lines).toEqual([
      { position: 1, kind: 'fee', description: 'device-access, 8 of 30 days', device_id: 'fleet-a', rating_group: null, zone: null, units: null, amount: '0.400000' },
      { position: 2, kind: 'fee', description: 'device-access, 8 of 30 days', device_id: 'fleet-b', rating_group: null, zone: null, units: null, amount: '0.400000' },
    ]);
  });

  it('renders the invoice as CSV of its lines, HTML and PDF, with the same amounts', async () => {
    const base = `${service.http.baseUrl}/v1/invoices/INV-2026-000001`;
    const csv = await fetch(`${base}/csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await csv.text()).toBe([
      'position,kind,description,device_id,rating_group,zone,units,amount',
      '1,fee,"device-access, 8 of 30 days",fleet-a,,,,0.400000',
      '2,fee,"device-access, 8 of 30 days",fleet-b,,,,0.400000',
      '',
    ].join('\r\n'));
    const html = await (await fetch(`${base}/html`)).text();
    expect(html).toContain('<h1>Invoice INV-2026-000001</h1>');
    expect(html).toContain('<tr><th colspan="3">Total</th><td class="number">0.800000</td></tr>');
    const pdf = Buffer.from(await (await fetch(`${base}/pdf`)).arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(500);
    expect((await fetch(`${service.http.baseUrl}/v1/invoices/INV-2026-999999/pdf`)).status).toBe(404);
  });

  it("takes the customer's discount off its fees and usage, before tax", async () => {
    await provisionFleet(service, { customerId: 'discounted', devices: ['discounted-a'], timeZone: 'Europe/Paris' });
    await service.http.ok('PUT', '/v1/customers/discounted', {
      name: 'discounted', currency: 'EUR', time_zone: 'Europe/Paris', billing_mode: 'postpaid', discount_percent: '10', tax_rates: [{ name: 'VAT', percent: '20' }],
    });
    await service.http.ok('PUT', '/v1/customers/discounted/subscription', { plan_id: 'iot-fleet' });
    expect((await service.http.ok('POST', '/v1/billing/runs', { as_of: '2026-12-01T06:00:00Z' })).invoiced).toEqual(['INV-2026-000002']);
    const invoice = await service.http.ok('GET', '/v1/invoices/INV-2026-000002');
    // 0.40 of fee, 10 % off, then 20 % VAT on each line: 0.08 − 0.008.
    expect(invoice).toMatchObject({ subtotal: '0.360000', tax: '0.072000', total: '0.432000' });
    expect(invoice.lines.map((line: { kind: string; description: string; amount: string }) => [line.kind, line.description, line.amount])).toEqual([
      ['fee', 'device-access, 8 of 30 days', '0.400000'], ['discount', 'discount 10%', '-0.040000'], ['tax', 'VAT 20%', '0.072000'],
    ]);
  });

  it('charges a device only for the days it was in service: activated or deactivated mid-month', async () => {
    await provisionFleet(service, { customerId: 'lifecycle', devices: ['lc-old', 'lc-gone'], timeZone: 'Europe/Paris' });
    await service.http.ok('PUT', '/v1/customers/lifecycle', { name: 'lifecycle', currency: 'EUR', time_zone: 'Europe/Paris', billing_mode: 'postpaid' });
    await service.http.ok('PUT', '/v1/customers/lifecycle/subscription', { plan_id: 'iot-fleet' });
    const joined = await service.http.ok('PUT', '/v1/devices/lc-new', { customer_id: 'lifecycle', activated_at: '2026-11-26T15:00:00+01:00' });
    expect(joined).toMatchObject({ activated_at: '2026-11-26T14:00:00.000Z', deactivated_at: null });
    const left = await service.http.ok('PUT', '/v1/devices/lc-gone', { customer_id: 'lifecycle', deactivated_at: '2026-11-28T00:00:00+01:00' });
    expect(left, 'activated when first created, by the service clock').toMatchObject({ activated_at: '2026-11-23T10:00:00.000Z', deactivated_at: '2026-11-27T23:00:00.000Z' });
    const refused = await service.http.request('PUT', '/v1/devices/lc-gone', { customer_id: 'lifecycle', deactivated_at: '2026-11-01T00:00:00Z' });
    expect([refused.status, refused.body.error.field]).toEqual([400, 'deactivated_at']);

    await service.http.ok('POST', '/v1/billing/runs', { as_of: '2026-12-01T06:00:00Z' });
    const [november] = (await service.http.ok('GET', '/v1/customers/lifecycle/invoices')).items;
    const fees = async (invoiceId: string) => (await service.http.ok('GET', `/v1/invoices/${invoiceId}`)).lines
      .map((line: { device_id: string; description: string; amount: string }) => [line.device_id, line.description, line.amount]);
    expect(await fees(november.id)).toEqual([
      ['lc-gone', 'device-access, 5 of 30 days', '0.250000'], // the 23rd to the 27th
      ['lc-new', 'device-access, 5 of 30 days', '0.250000'], // the 26th to the 30th
      ['lc-old', 'device-access, 8 of 30 days', '0.400000'],
    ]);
    await service.http.ok('POST', '/v1/billing/runs', { as_of: '2027-01-01T06:00:00Z' });
    const [december] = (await service.http.ok('GET', '/v1/customers/lifecycle/invoices')).items;
    expect(await fees(december.id), 'no fee once deactivated').toEqual([
      ['lc-new', 'device-access, 31 of 31 days', '1.500000'],
      ['lc-old', 'device-access, 31 of 31 days', '1.500000'],
    ]);
  });

  it('shows what allowances covered apart from what was charged, at zero cost', async () => {
    await provisionFleet(service, { customerId: 'bundled', devices: ['bundled-a'], timeZone: 'Europe/Paris' });
    await service.http.ok('PUT', '/v1/customers/bundled', { name: 'bundled', currency: 'EUR', time_zone: 'Europe/Paris', billing_mode: 'postpaid', credit_limit: '100' });
    await service.http.ok('PUT', '/v1/customers/bundled/subscription', { plan_id: 'iot-fleet' });
    await service.app.granter.grantDue();
    const home = { mcc: '262', mnc: '01' };
    await service.grpc.ok('Reserve', { session_id: 'bundled-1', request_number: 1, device_id: 'bundled-a', location: home, items: [{ rating_group: 1, requested_units: '600000000' }] });
    await service.grpc.ok('Commit', {
      session_id: 'bundled-1', request_number: 2, device_id: 'bundled-a', location: home, final: true, items: [{ rating_group: 1, used_units: '600000000' }],
    });
    for (const n of [1, 2]) await service.grpc.ok('Charge', { event_id: `bundled-sms-${n}`, device_id: 'bundled-a', rating_group: 2, units: '1', location: home });
    await service.app.ledger.drainOnce();
    await service.http.ok('POST', '/v1/billing/runs', { as_of: '2026-12-01T06:00:00Z' });
    const [invoice] = (await service.http.ok('GET', '/v1/customers/bundled/invoices')).items;
    const lines = (await service.http.ok('GET', `/v1/invoices/${invoice.id}`)).lines.map((line: { description: string; units: string | null; amount: string }) => [line.description, line.units, line.amount]);
    expect(lines).toEqual([
      ['device-access, 8 of 30 days', null, '0.400000'],
      // 500 MB of the device's bundle, then 100 MB of the fleet's pool: nothing to pay.
      ['rating group 1, zone home, from allowances', '600000000', '0.000000'],
      ['rating group 2, zone home', '2', '0.100000'],
    ]);
  });
});

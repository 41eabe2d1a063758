// Invoices carry the recurring fees of the plans in force: per device, prorated by the days the
// plan covered it in the fee's month.
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
      { position: 1, kind: 'fee', description: 'device-access, 8 of 30 days', device_id: 'fleet-a', rating_group: null, units: null, amount: '0.400000' },
      { position: 2, kind: 'fee', description: 'device-access, 8 of 30 days', device_id: 'fleet-b', rating_group: null, units: null, amount: '0.400000' },
    ]);
  });
});

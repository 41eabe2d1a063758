// Plans grant their allowances each period with no operator action: the granter writes the
// grants of the period that contains now for every subscription in force, once, with the
// unused units of the grant that just ended rolled over up to the plan's cap.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectPath } from '../../src/paths.js';
import { provisionFleet, startTestService, type TestService } from '../support/service.js';

const FIXTURE = parse(readFileSync(projectPath('test', 'fixtures', 'catalog', 'iot-plans.yaml'), 'utf8')) as object;
const DATA = 1;
const MB = 1_000_000;
// The customer's calendar: November 2026 in Berlin starts at 2026-10-31T23:00Z.
const NOVEMBER = { from: '2026-10-31T23:00:00.000Z', until: '2026-11-30T23:00:00.000Z' };

let service: TestService;

beforeAll(async () => {
  service = await startTestService('allowance-grants');
  await service.http.ok('POST', '/v1/catalog/apply', FIXTURE);
  await service.app.catalog.loadRatingGroups();
  await provisionFleet(service, {
    customerId: 'grants', devices: ['grants-a', 'grants-b'], timeZone: 'Europe/Berlin',
    tariff: { id: 'grants-flat', rates: [{ rating_group: DATA, price: '1.00', per_units: 1_000_000_000, increment_units: 1 }] },
  });
  await service.http.ok('PUT', '/v1/customers/grants/subscription', { plan_id: 'iot-fleet' });
});
afterAll(() => service?.close());

async function grants(deviceId?: string) {
  const balance = await service.grpc.ok('GetBalance', deviceId === undefined ? { customer_id: 'grants' } : { device_id: deviceId });
  return balance.allowances.map((bucket: Record<string, unknown>) => ({
    id: bucket.allowance_id, total: bucket.units_total, used: bucket.units_used, from: instant(bucket.valid_from), until: instant(bucket.valid_until),
  }));
}

const instant = (timestamp: unknown) => new Date(Number((timestamp as { seconds: string }).seconds) * 1000).toISOString();

describe('allowances granted by a plan each period', () => {
  it("grants this month's bundles: each device's own and the fleet's pool, once however often it runs", async () => {
    expect(await service.app.granter.grantDue()).toEqual({ subscriptions: 1, granted: 3 });
    expect(await service.app.granter.grantDue(), 'a second run grants nothing').toEqual({ subscriptions: 1, granted: 0 });
    expect(await grants()).toEqual([{ id: 'iot-fleet:fleet-data:grants:2026-11-01', total: String(100_000 * MB), used: '0', ...NOVEMBER }]);
    expect(await grants('grants-a')).toContainEqual({ id: 'iot-fleet:device-data:grants-a:2026-11-01', total: String(500 * MB), used: '0', ...NOVEMBER });
  });

  it("draws a device's usage from its bundle, and rolls what is left over into next month, capped", async () => {
    const session = { session_id: 'grants-s1', device_id: 'grants-a' };
    await service.grpc.ok('Reserve', { ...session, request_number: 1, items: [{ rating_group: DATA, requested_units: String(100 * MB) }] });
    await service.grpc.ok('Commit', { ...session, request_number: 2, final: true, items: [{ rating_group: DATA, used_units: String(400 * MB) }] });
    expect((await grants('grants-a')).find((bucket: { id: string }) => bucket.id.includes('device-data'))).toMatchObject({ used: String(400 * MB) });

    service.clock.advance(Date.parse('2026-12-01T08:00:00+01:00') - service.clock.nowMs());
    expect(await service.app.granter.grantDue()).toEqual({ subscriptions: 1, granted: 3 });
    const december = (deviceId: string) => grants(deviceId).then((buckets) => buckets.find((bucket: { id: string }) => bucket.id.endsWith(':2026-12-01') && bucket.id.includes('device-data')));
    // 100 MB left over on device a, 500 MB on device b, of which at most 250 MB roll over.
    expect(await december('grants-a')).toMatchObject({ total: String(600 * MB), used: '0' });
    expect(await december('grants-b')).toMatchObject({ total: String(750 * MB), used: '0' });
    expect((await grants()).find((bucket: { id: string }) => bucket.id.endsWith(':2026-12-01')), 'the pool has no rollover').toMatchObject({ total: String(100_000 * MB) });
  });

  it("grants a device on a plan of its own its bundle, and leaves it out of its customer's plan", async () => {
    await service.http.ok('PUT', '/v1/devices/grants-b/subscription', { plan_id: 'iot-fleet', from: new Date(service.clock.nowMs()).toISOString() });
    await provisionFleet(service, { customerId: 'grants', devices: ['grants-c'], timeZone: 'Europe/Berlin' });
    const report = await service.app.granter.grantDue();
    expect(report).toEqual({ subscriptions: 2, granted: 1 });
    expect((await grants('grants-c')).map((bucket: { id: string }) => bucket.id)).toContain('iot-fleet:device-data:grants-c:2026-12-01');
  });
});

// Subscriptions over HTTP: PUT and GET /v1/customers/{id}/subscription and
// /v1/devices/{id}/subscription. A new plan closes the one in force at its start and replaces
// changes scheduled after it; repeating a PUT changes nothing; a start in the past, an unknown
// plan or one in another currency is refused naming the field; and a plan with subscribers keeps
// its currency.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { projectPath } from '../../src/paths.js';
import { START_MS, startTestService, type TestService } from '../support/service.js';

const FIXTURE = readFileSync(projectPath('test', 'fixtures', 'catalog', 'iot-plans.yaml'), 'utf8');
const NOW = new Date(START_MS).toISOString().replace('.000Z', 'Z');
const LATER = '2026-12-01T00:00:00Z';
const LATER_STILL = '2027-02-01T00:00:00Z';

let service: TestService;

/** The fixture plus a second plan in EUR and one in USD. */
const CATALOG = `${FIXTURE}
  - { id: iot-lite, name: IoT lite, currency: EUR, versions: [{ effective_from: "2026-01-01T00:00:00Z", tariff: iot-eu }] }
  - { id: iot-usd, name: IoT dollars, currency: USD, versions: [{ effective_from: "2026-01-01T00:00:00Z", tariff: iot-usd }] }
`.replace('\nplans:\n', `
  - id: iot-usd
    name: IoT in dollars
    currency: USD
    rates: [{ rating_group: 2, intervals: [{ increment_units: 1, price: "0.06" }] }]

plans:
`);

beforeAll(async () => {
  service = await startTestService('subscriptions');
  const applied = await service.http.request('POST', '/v1/catalog/apply', CATALOG, { 'content-type': 'application/yaml' });
  expect(applied.status, applied.text).toBe(200);
  await service.http.ok('PUT', '/v1/customers/acme', { name: 'Acme', currency: 'EUR' });
  await service.http.ok('PUT', '/v1/devices/acme-1', { customer_id: 'acme' });
});
afterAll(() => service?.close());

beforeEach(async () => {
  await service.context.pool.query('TRUNCATE subscriptions');
  service.clock.set(START_MS);
});

const put = (path: string, body: unknown) => service.http.request('PUT', path, body);

describe('a customer subscribes', () => {
  it('from now by default, and GET shows it in force', async () => {
    const view = await service.http.ok('PUT', '/v1/customers/acme/subscription', { plan_id: 'iot-fleet' });
    const expected = { customer_id: 'acme', device_id: null, current: { plan_id: 'iot-fleet', from: NOW, until: null }, items: [{ plan_id: 'iot-fleet', from: NOW, until: null }] };
    expect(view).toEqual(expected);
    expect(await service.http.ok('GET', '/v1/customers/acme/subscription')).toEqual(expected);
  });

  it('repeating the PUT later changes nothing', async () => {
    await service.http.ok('PUT', '/v1/customers/acme/subscription', { plan_id: 'iot-fleet' });
    service.clock.advance(3_600_000);
    const view = await service.http.ok('PUT', '/v1/customers/acme/subscription', { plan_id: 'iot-fleet' });
    expect(view.items).toEqual([{ plan_id: 'iot-fleet', from: NOW, until: null }]);
  });

  it('a change scheduled for later closes the plan in force then, and takes over when its time comes', async () => {
    await service.http.ok('PUT', '/v1/customers/acme/subscription', { plan_id: 'iot-fleet' });
    const view = await service.http.ok('PUT', '/v1/customers/acme/subscription', { plan_id: 'iot-lite', from: '2026-12-01T01:00:00+01:00' });
    expect(view.items).toEqual([{ plan_id: 'iot-fleet', from: NOW, until: LATER }, { plan_id: 'iot-lite', from: LATER, until: null }]);
    expect(view.current).toEqual({ plan_id: 'iot-fleet', from: NOW, until: LATER });
    service.clock.set(Date.parse(LATER));
    expect((await service.http.ok('GET', '/v1/customers/acme/subscription')).current).toEqual({ plan_id: 'iot-lite', from: LATER, until: null });
  });

  it('a new change replaces the ones scheduled after its start', async () => {
    await service.http.ok('PUT', '/v1/customers/acme/subscription', { plan_id: 'iot-fleet' });
    await service.http.ok('PUT', '/v1/customers/acme/subscription', { plan_id: 'iot-lite', from: LATER_STILL });
    const moved = await service.http.ok('PUT', '/v1/customers/acme/subscription', { plan_id: 'iot-lite', from: LATER });
    expect(moved.items).toEqual([{ plan_id: 'iot-fleet', from: NOW, until: LATER }, { plan_id: 'iot-lite', from: LATER, until: null }]);
    const cancelled = await service.http.ok('PUT', '/v1/customers/acme/subscription', { plan_id: 'iot-fleet', from: LATER });
    expect(cancelled.items).toEqual([{ plan_id: 'iot-fleet', from: NOW, until: null }]);
  });

  it.each([
    ['an unknown plan', { plan_id: 'iot-gold' }, 'plan_id', 'plan_id: plan iot-gold does not exist'],
    ['a plan in another currency', { plan_id: 'iot-usd' }, 'plan_id', 'plan_id: plan iot-usd is in USD, the customer in EUR'],
    ['a start in the past', { plan_id: 'iot-fleet', from: '2026-11-23T09:59:59Z' }, 'from',
      `from: must not be before now (${NOW}): usage already charged cannot be repriced`],
    ['a start that is not RFC 3339', { plan_id: 'iot-fleet', from: 'tomorrow' }, 'from', 'from: must be an RFC 3339 timestamp such as "2026-11-23T10:00:00Z"'],
    ['no plan_id', {}, 'plan_id', 'plan_id: must be the id of a plan'],
    ['an unknown field', { plan_id: 'iot-fleet', until: LATER }, 'body', 'body: unknown field until'],
  ])('refuses %s: 400 naming the field, and nothing changes', async (_name, body, field, message) => {
    const response = await put('/v1/customers/acme/subscription', body);
    expect(response.status, response.text).toBe(400);
    expect(response.body.error).toEqual({ code: 'INVALID_ARGUMENT', field, message });
    expect((await service.http.ok('GET', '/v1/customers/acme/subscription')).items).toEqual([]);
  });

  it('of an unknown customer is 404', async () => {
    expect((await put('/v1/customers/nobody/subscription', { plan_id: 'iot-fleet' })).status).toBe(404);
    expect((await service.http.request('GET', '/v1/customers/nobody/subscription')).status).toBe(404);
  });
});

describe('a device subscribes', () => {
  it('on its own, apart from its customer', async () => {
    await service.http.ok('PUT', '/v1/customers/acme/subscription', { plan_id: 'iot-fleet' });
    const view = await service.http.ok('PUT', '/v1/devices/acme-1/subscription', { plan_id: 'iot-lite', from: LATER });
    expect(view).toEqual({ customer_id: 'acme', device_id: 'acme-1', current: null, items: [{ plan_id: 'iot-lite', from: LATER, until: null }] });
    expect((await service.http.ok('GET', '/v1/customers/acme/subscription')).items).toEqual([{ plan_id: 'iot-fleet', from: NOW, until: null }]);
  });

  it('in its customer\'s currency only, and an unknown device is 404', async () => {
    expect((await put('/v1/devices/acme-1/subscription', { plan_id: 'iot-usd' })).body.error.field).toBe('plan_id');
    expect((await put('/v1/devices/nobody/subscription', { plan_id: 'iot-fleet' })).status).toBe(404);
  });
});

it('a plan with subscribers keeps its currency, even before any version is in effect', async () => {
  const future = '  - { id: iot-next, name: Next, currency: EUR, versions: [{ effective_from: "2030-01-01T00:00:00Z", tariff: iot-eu }] }\n';
  const withNext = `${CATALOG}${future}`;
  expect((await service.http.request('POST', '/v1/catalog/apply', withNext, { 'content-type': 'application/yaml' })).status).toBe(200);
  await service.http.ok('PUT', '/v1/customers/acme/subscription', { plan_id: 'iot-next' });
  const inDollars = withNext.replace(future, future.replace('currency: EUR', 'currency: USD').replace('tariff: iot-eu', 'tariff: iot-usd'));
  const response = await service.http.request('POST', '/v1/catalog/apply', inDollars, { 'content-type': 'application/yaml' });
  expect(response.status, response.text).toBe(409);
  expect(response.body.error).toMatchObject({ code: 'CONFLICT', field: 'plans[3].currency' });
  expect(response.body.error.message).toContain('plan "iot-next" is in EUR and has subscribers; its currency cannot change');
});

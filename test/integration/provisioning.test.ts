// The operator's admin API over HTTP: rating groups, tariffs, customers, devices and
// allowances. Each resource is created, read and listed; every validation failure is a 400
// that names the field; a setting that cannot change is a 409 CONFLICT; an unknown id is a
// 404; a repeated PUT gives the same view and never touches live state (the wallet); and with
// ADMIN_TOKEN set, the /v1 routes need the bearer token while /healthz stays open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.js';
import { ratingGroups, startTestService, type TestService } from '../support/service.js';

let service: TestService;
const DATA = 1;
const SMS = 2;
const UNKNOWN_GROUP = 99;
const WINDOW = { valid_from: '2026-01-01T00:00:00Z', valid_until: '2027-01-01T00:00:00Z' };
const PAGES_MAX = 100;

beforeAll(async () => {
  service = await startTestService('provisioning');
  await ratingGroups(service, [[DATA, 'bytes'], [SMS, 'events']]);
  await service.http.ok('PUT', '/v1/tariffs/eur-sms', { name: 'SMS in euros', currency: 'EUR', rates: [{ rating_group: SMS, price: '0.01' }] });
  await service.http.ok('PUT', '/v1/tariffs/usd-sms', { name: 'SMS in dollars', currency: 'USD', rates: [{ rating_group: SMS, price: '0.01' }] });
  await service.http.ok('PUT', '/v1/customers/acme', { name: 'Acme', currency: 'EUR', tariff_id: 'eur-sms' });
  await service.http.ok('PUT', '/v1/customers/globex', { name: 'Globex', currency: 'EUR' });
  await service.http.ok('PUT', '/v1/devices/acme-1', { customer_id: 'acme' });
  await service.http.ok('PUT', '/v1/devices/globex-1', { customer_id: 'globex' });
});
afterAll(() => service?.close());

async function expectError(method: string, path: string, body: unknown, status: number, code: ErrorCode, field: string) {
  const response = await service.http.request(method, path, body);
  expect(response.status, response.text).toBe(status);
  expect(response.body.error).toMatchObject({ code, field });
  expect(response.body.error.message.startsWith(`${field}: `), response.body.error.message).toBe(true);
  return response.body.error as { code: string; message: string; field: string };
}

/** A view without the time it was last written, which a repeated PUT may move. */
function withoutUpdatedAt<View extends { updated_at?: string }>(view: View): Omit<View, 'updated_at'> {
  const { updated_at: _updatedAt, ...rest } = view;
  return rest;
}

describe('rating groups', () => {
  it('creates, reads back in the list, and repeats a PUT to the same view', async () => {
    const created = await service.http.ok('PUT', '/v1/rating-groups/7', { name: 'location fixes', unit: 'events' });
    expect(created).toEqual({ id: 7, name: 'location fixes', unit: 'events' });
    expect(await service.http.ok('PUT', '/v1/rating-groups/7', { name: 'location fixes', unit: 'events' })).toEqual(created);
    const { items } = await service.http.ok('GET', '/v1/rating-groups');
    expect(items.map((group: { id: number }) => group.id)).toEqual([DATA, SMS, 7]);
    expect(items[2]).toEqual(created);
  });

  it.each([
    ['unit unknown', '8', { name: 'bits', unit: 'bits' }, 'unit'],
    ['unit missing', '8', { name: 'bits' }, 'unit'],
    ['name empty', '8', { name: '', unit: 'bytes' }, 'name'],
    ['name 201 characters', '8', { name: 'n'.repeat(201), unit: 'bytes' }, 'name'],
    ['an unknown field', '8', { name: 'data', unit: 'bytes', colour: 'blue' }, 'body'],
    ['no body', '8', undefined, 'body'],
    ['id not a number', 'data', { name: 'data', unit: 'bytes' }, 'id'],
    ['id 0', '0', { name: 'data', unit: 'bytes' }, 'id'],
    ['id a decimal', '1.5', { name: 'data', unit: 'bytes' }, 'id'],
    ['id over 2^32-1', '4294967296', { name: 'data', unit: 'bytes' }, 'id'],
  ])('%s → 400 naming %s', async (_name, id, body, field) => {
    await expectError('PUT', `/v1/rating-groups/${id}`, body, 400, 'INVALID_ARGUMENT', field);
    expect((await service.http.ok('GET', '/v1/rating-groups')).items.map((group: { id: number }) => group.id)).not.toContain(8);
  });

  it('says which field is unknown', async () => {
    const error = await expectError('PUT', '/v1/rating-groups/8', { name: 'data', unit: 'bytes', colour: 'blue' }, 400, 'INVALID_ARGUMENT', 'body');
    expect(error.message).toContain('colour');
  });

  // Number() accepts hexadecimal, exponents and blanks: /0x10 would create rating group 16, and
  // /1e1 would create 10.
  it.each([['0x10'], ['1e1'], ['%2010']])('a rating group id that is not plain decimal ("%s") → 400 naming id', async (id) => {
    await expectError('PUT', `/v1/rating-groups/${id}`, { name: 'odd', unit: 'events' }, 400, 'INVALID_ARGUMENT', 'id');
  });
});

describe('tariffs', () => {
  const valid = () => ({
    name: 'Data and SMS', currency: 'EUR', rounding: { mode: 'half-even', decimals: 4 }, final_unit_action: 'redirect',
    rates: [{ rating_group: DATA, price: '0.50', per_units: 1_000_000_000, increment_units: 1000 }, { rating_group: SMS, price: '0.000000000000000001', connect_fee: '0.10' }],
  });

  it('creates with defaults filled in, reads back, and lists', async () => {
    const created = await service.http.ok('PUT', '/v1/tariffs/mixed', valid());
    expect(created).toMatchObject({
      id: 'mixed', name: 'Data and SMS', currency: 'EUR', version: 1, rounding: { mode: 'half-even', decimals: 4 }, final_unit_action: 'redirect',
      rates: [
        { rating_group: DATA, price: '0.50', per_units: 1_000_000_000, increment_units: 1000, connect_fee: '0' },
        { rating_group: SMS, price: '0.000000000000000001', per_units: 1, increment_units: 1, connect_fee: '0.10' },
      ],
    });
    expect(await service.http.ok('GET', '/v1/tariffs/mixed')).toEqual(created);
    const minimal = await service.http.ok('PUT', '/v1/tariffs/minimal', { name: 'minimal', currency: 'EUR', rates: [{ rating_group: SMS, price: '1' }] });
    expect(minimal).toMatchObject({ rounding: { mode: 'up', decimals: 6 }, final_unit_action: 'terminate' });
    const { items } = await service.http.ok('GET', '/v1/tariffs');
    expect(items.map((tariff: { id: string }) => tariff.id)).toEqual(['eur-sms', 'minimal', 'mixed', 'usd-sms']);
  });

  const rate = (patch: object) => ({ ...valid(), rates: [{ ...valid().rates[0], ...patch }] });
  it.each([
    ['rates[0].price negative', rate({ price: '-0.50' }), 'rates[0].price'],
    ['rates[0].price not a decimal', rate({ price: 'free' }), 'rates[0].price'],
    ['rates[0].price a JSON number', rate({ price: 0.5 }), 'rates[0].price'],
    ['rates[0].price with 19 decimals', rate({ price: `0.${'0'.repeat(18)}1` }), 'rates[0].price'],
    ['rates[0].connect_fee negative', rate({ connect_fee: '-0.10' }), 'rates[0].connect_fee'],
    ['rates[0].increment_units 0', rate({ increment_units: 0 }), 'rates[0].increment_units'],
    ['rates[0].increment_units a decimal', rate({ increment_units: 1.5 }), 'rates[0].increment_units'],
    ['rates[0].per_units 0', rate({ per_units: 0 }), 'rates[0].per_units'],
    ['rates[0].per_units over 2^53-1', rate({ per_units: 2 ** 53 }), 'rates[0].per_units'],
    ['rates[0].rating_group 0', rate({ rating_group: 0 }), 'rates[0].rating_group'],
    ['rates[0] with an unknown field', rate({ discount: '10%' }), 'rates[0]'],
    ['rates empty', { ...valid(), rates: [] }, 'rates'],
    ['rates missing', { ...valid(), rates: undefined }, 'rates'],
    ['rates over 256', { ...valid(), rates: Array.from({ length: 257 }, () => valid().rates[1]) }, 'rates'],
    ['rounding.decimals 7', { ...valid(), rounding: { mode: 'up', decimals: 7 } }, 'rounding.decimals'],
    ['rounding.decimals negative', { ...valid(), rounding: { mode: 'up', decimals: -1 } }, 'rounding.decimals'],
    ['rounding.decimals a decimal', { ...valid(), rounding: { mode: 'up', decimals: 1.5 } }, 'rounding.decimals'],
    ['rounding.mode unknown', { ...valid(), rounding: { mode: 'nearest', decimals: 2 } }, 'rounding.mode'],
    ['final_unit_action unknown', { ...valid(), final_unit_action: 'stop' }, 'final_unit_action'],
    ['currency unknown ("XXX")', { ...valid(), currency: 'XXX' }, 'currency'],
    ['name missing', { ...valid(), name: undefined }, 'name'],
    ['an unknown field', { ...valid(), colour: 'blue' }, 'body'],
    ['rates[1].rating_group unknown', { ...valid(), rates: [valid().rates[0], { rating_group: UNKNOWN_GROUP, price: '1' }] }, 'rates[1].rating_group'],
    ['rates[1].rating_group a duplicate', { ...valid(), rates: [valid().rates[0], { rating_group: DATA, price: '1' }] }, 'rates[1].rating_group'],
  ])('%s → 400 naming the field', async (_name, body, field) => {
    await expectError('PUT', '/v1/tariffs/refused', body, 400, 'INVALID_ARGUMENT', field);
    await expectError('GET', '/v1/tariffs/refused', undefined, 404, 'NOT_FOUND', 'id');
  });

  it('a tariff id with a space → 400 naming id', async () => {
    await expectError('PUT', '/v1/tariffs/a%20b', valid(), 400, 'INVALID_ARGUMENT', 'id');
  });

  // The path parameter limit, see "accepts a customer id of 128 characters in the path": a
  // 129-character id is routed and refused like any other bad id, not with Fastify's raw 414.
  it('a tariff id of 129 characters → 400 naming id', async () => {
    await expectError('PUT', `/v1/tariffs/${'t'.repeat(129)}`, valid(), 400, 'INVALID_ARGUMENT', 'id');
  });

  it('answers 404 for an unknown tariff', async () => {
    await expectError('GET', '/v1/tariffs/nothing', undefined, 404, 'NOT_FOUND', 'id');
  });

  it('refuses to move a tariff to another currency while customers in its currency use it', async () => {
    const before = await service.http.ok('GET', '/v1/tariffs/eur-sms');
    await expectError('PUT', '/v1/tariffs/eur-sms', { name: 'SMS in euros', currency: 'USD', rates: [{ rating_group: SMS, price: '0.01' }] }, 409, 'CONFLICT', 'currency');
    expect(await service.http.ok('GET', '/v1/tariffs/eur-sms')).toEqual(before);
  });

  it('versions a change of price', async () => {
    await service.http.ok('PUT', '/v1/tariffs/repriced', { name: 'repriced', currency: 'EUR', rates: [{ rating_group: SMS, price: '0.01' }] });
    const changed = await service.http.ok('PUT', '/v1/tariffs/repriced', { name: 'repriced', currency: 'EUR', rates: [{ rating_group: SMS, price: '0.02' }] });
    expect(changed).toMatchObject({ version: 2, rates: [{ price: '0.02' }] });
  });

  // Repeating a request is how a failed projection is mended, so a retry must not show up as a
  // new tariff version.
  it('repeats an identical PUT to the same view, version included', async () => {
    const first = await service.http.ok('PUT', '/v1/tariffs/stable', valid());
    const again = await service.http.ok('PUT', '/v1/tariffs/stable', valid());
    expect(again.version).toBe(first.version);
    expect(withoutUpdatedAt(again)).toEqual(withoutUpdatedAt(first));
  });
});

describe('customers', () => {
  it('creates with defaults, reads back, and repeats a PUT to the same view', async () => {
    const created = await service.http.ok('PUT', '/v1/customers/initech', { name: 'Initech', currency: 'EUR' });
    expect(created).toMatchObject({ id: 'initech', name: 'Initech', currency: 'EUR', time_zone: 'UTC', tariff_id: null, credit_limit: '0.000000' });
    expect(await service.http.ok('GET', '/v1/customers/initech')).toEqual(created);
    const again = await service.http.ok('PUT', '/v1/customers/initech', { name: 'Initech', currency: 'EUR' });
    expect(withoutUpdatedAt(again)).toEqual(withoutUpdatedAt(created));
  });

  it('keeps billing settings: prepaid on calendar months by default, postpaid with an anniversary, taxes and an address', async () => {
    const created = await service.http.ok('PUT', '/v1/customers/billed', { name: 'Billed', currency: 'EUR' });
    expect(created).toMatchObject({ billing_mode: 'prepaid', anniversary_day: null, payment_terms_days: 30, tax_id: null, tax_rates: [], invoice_address: null });
    const settings = {
      billing_mode: 'postpaid', anniversary_day: 31, payment_terms_days: 14, tax_id: 'FR12345678901',
      tax_rates: [{ name: 'VAT', percent: '20' }], invoice_address: { lines: ['Billed SA', '1 rue de la Paix', '75002 Paris'], country: 'FR' },
    };
    const postpaid = await service.http.ok('PUT', '/v1/customers/billed', { name: 'Billed', currency: 'EUR', credit_limit: '500', ...settings });
    expect(postpaid).toMatchObject(settings);
    expect(await service.http.ok('GET', '/v1/customers/billed')).toMatchObject(settings);
  });

  it.each([
    ['billing_mode unknown', { billing_mode: 'credit' }, 'billing_mode'],
    ['anniversary_day 32', { anniversary_day: 32 }, 'anniversary_day'],
    ['payment_terms_days negative', { payment_terms_days: -1 }, 'payment_terms_days'],
    ['a tax rate as a number', { tax_rates: [{ name: 'VAT', percent: 20 }] }, 'tax_rates[0].percent'],
    ['an address without a country', { invoice_address: { lines: ['x'] } }, 'invoice_address.country'],
    ['a discount over 100 %', { discount_percent: '100.5' }, 'discount_percent'],
  ])('refuses billing settings with %s, naming the field', async (_name, patch, field) => {
    const refused = await service.http.request('PUT', '/v1/customers/billed-bad', { name: 'Bad', currency: 'EUR', ...patch });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', field });
  });

  it('keeps the wallet\'s balance and holds through repeated and changed PUTs', async () => {
    const body = { name: 'Hooli', currency: 'EUR', tariff_id: 'eur-sms', time_zone: 'Europe/Paris', credit_limit: '5' };
    const created = await service.http.ok('PUT', '/v1/customers/hooli', body);
    await service.http.ok('PUT', '/v1/devices/hooli-1', { customer_id: 'hooli' });
    await service.http.ok('POST', '/v1/top-ups', { top_up_id: 'hooli-opening', customer_id: 'hooli', amount: '12.50', currency: 'EUR' });
    await service.grpc.ok('Reserve', { session_id: 'hooli-s', request_number: 1, device_id: 'hooli-1', items: [{ rating_group: SMS, requested_units: '10' }] });
    const walletBefore = (await service.grpc.ok('GetBalance', { customer_id: 'hooli' })).wallet;
    expect(walletBefore).toEqual({ currency: 'EUR', balance: '12.500000', held: '0.100000', available: '17.400000', credit_limit: '5.000000' });

    expect(withoutUpdatedAt(await service.http.ok('PUT', '/v1/customers/hooli', body))).toEqual(withoutUpdatedAt(created));
    expect((await service.grpc.ok('GetBalance', { customer_id: 'hooli' })).wallet).toEqual(walletBefore);

    const raised = await service.http.ok('PUT', '/v1/customers/hooli', { ...body, credit_limit: '20.00' });
    expect(raised.credit_limit).toBe('20.000000');
    expect((await service.grpc.ok('GetBalance', { customer_id: 'hooli' })).wallet).toEqual({ ...walletBefore, available: '32.400000', credit_limit: '20.000000' });
  });

  it.each([
    ['time_zone unknown', { time_zone: 'Mars/Olympus_Mons' }, 'time_zone'],
    ['currency unknown', { currency: 'XXX' }, 'currency'],
    ['currency missing', { currency: undefined }, 'currency'],
    ['tariff_id of a tariff in another currency', { tariff_id: 'usd-sms' }, 'tariff_id'],
    ['tariff_id unknown', { tariff_id: 'nothing' }, 'tariff_id'],
    ['tariff_id with a space', { tariff_id: 'a b' }, 'tariff_id'],
    ['credit_limit negative', { credit_limit: '-1' }, 'credit_limit'],
    ['credit_limit with 7 decimals', { credit_limit: '1.0000001' }, 'credit_limit'],
    ['credit_limit a JSON number', { credit_limit: 5 }, 'credit_limit'],
    ['name 201 characters', { name: 'n'.repeat(201) }, 'name'],
    ['an unknown field', { plan: 'gold' }, 'body'],
  ])('%s → 400 naming the field, and nothing is created', async (_name, patch, field) => {
    await expectError('PUT', '/v1/customers/refused', { name: 'Refused', currency: 'EUR', ...patch }, 400, 'INVALID_ARGUMENT', field);
    await expectError('GET', '/v1/customers/refused', undefined, 404, 'NOT_FOUND', 'id');
  });

  it('refuses to change the currency of a wallet (409 CONFLICT), and changes nothing', async () => {
    const before = await service.http.ok('GET', '/v1/customers/globex');
    await expectError('PUT', '/v1/customers/globex', { name: 'Globex renamed', currency: 'USD' }, 409, 'CONFLICT', 'currency');
    expect(await service.http.ok('GET', '/v1/customers/globex')).toEqual(before);
    expect((await service.grpc.ok('GetBalance', { customer_id: 'globex' })).wallet.currency).toBe('EUR');
  });

  it('answers 404 for an unknown customer', async () => {
    await expectError('GET', '/v1/customers/nobody', undefined, 404, 'NOT_FOUND', 'id');
    await expectError('GET', '/v1/customers/nobody/devices', undefined, 404, 'NOT_FOUND', 'id');
    await expectError('GET', '/v1/customers/nobody/allowances', undefined, 404, 'NOT_FOUND', 'id');
  });

  // Fastify's default maxParamLength is 100, below the id limit of 128; ids valid in every
  // request body must be valid in the path too (customers, devices and tariffs alike).
  it('accepts a customer id of 128 characters in the path', async () => {
    const id = 'c'.repeat(128);
    expect(await service.http.ok('PUT', `/v1/customers/${id}`, { name: 'Long', currency: 'EUR' })).toMatchObject({ id });
  });
});

describe('keyset pagination of customers', () => {
  beforeAll(async () => {
    for (const suffix of ['a', 'b', 'c', 'd', 'e']) await service.http.ok('PUT', `/v1/customers/page-${suffix}`, { name: suffix, currency: 'EUR' });
  });

  async function allPages(limit: number): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let after: string | undefined;
    for (let pages = 1; pages <= PAGES_MAX; pages++) {
      const query = `limit=${limit}${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`;
      const page = await service.http.ok('GET', `/v1/customers?${query}`);
      expect(page.items.length).toBeLessThanOrEqual(limit);
      ids.push(...page.items.map((customer: { id: string }) => customer.id));
      if (page.next_after === undefined) return { ids, pages };
      expect(page.next_after).toBe(page.items[page.items.length - 1].id);
      after = page.next_after;
    }
    throw new Error(`more than ${PAGES_MAX} pages`);
  }

  it('walks every customer exactly once, in id order, whatever the page size', async () => {
    const everything = await service.http.ok('GET', '/v1/customers');
    expect(everything.next_after).toBeUndefined();
    const all = everything.items.map((customer: { id: string }) => customer.id);
    expect(all).toEqual([...all].sort());
    expect(all).toEqual(expect.arrayContaining(['page-a', 'page-b', 'page-c', 'page-d', 'page-e']));
    for (const limit of [1, 2, 3, all.length, all.length + 1]) {
      const walked = await allPages(limit);
      expect(walked.ids, `limit ${limit}`).toEqual(all);
      expect(walked.pages, `limit ${limit}`).toBe(Math.floor(all.length / limit) + 1);
    }
  });

  it('starts after the given id', async () => {
    const page = await service.http.ok('GET', '/v1/customers?after=page-b&limit=2');
    expect(page).toMatchObject({ items: [{ id: 'page-c' }, { id: 'page-d' }], next_after: 'page-d' });
    expect((await service.http.ok('GET', '/v1/customers?after=page-e')).items.every((customer: { id: string }) => customer.id > 'page-e')).toBe(true);
  });

  it('lists a customer\'s devices the same way', async () => {
    for (const suffix of ['1', '2', '3']) await service.http.ok('PUT', `/v1/devices/page-a-${suffix}`, { customer_id: 'page-a' });
    const first = await service.http.ok('GET', '/v1/customers/page-a/devices?limit=2');
    expect(first).toMatchObject({ items: [{ id: 'page-a-1' }, { id: 'page-a-2' }], next_after: 'page-a-2' });
    expect(await service.http.ok('GET', '/v1/customers/page-a/devices?limit=2&after=page-a-2')).toEqual({ items: [expect.objectContaining({ id: 'page-a-3' })] });
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=1.5', 'limit'],
    ['after=a%20b', 'after'],
  ])('%s → 400 naming %s', async (query, field) => {
    await expectError('GET', `/v1/customers?${query}`, undefined, 400, 'INVALID_ARGUMENT', field);
  });
});

describe('devices', () => {
  it('creates, reads back, and repeats a PUT to the same view', async () => {
    const created = await service.http.ok('PUT', '/v1/devices/acme-2', { customer_id: 'acme', daily_cap: '0.5', monthly_cap: '12.25' });
    expect(created).toMatchObject({ id: 'acme-2', customer_id: 'acme', status: 'active', daily_cap: '0.500000', monthly_cap: '12.250000' });
    expect(await service.http.ok('GET', '/v1/devices/acme-2')).toEqual(created);
    const again = await service.http.ok('PUT', '/v1/devices/acme-2', { customer_id: 'acme', daily_cap: '0.500000', monthly_cap: '12.25' });
    expect(withoutUpdatedAt(again)).toEqual(withoutUpdatedAt(created));
    const uncapped = await service.http.ok('PUT', '/v1/devices/acme-2', { customer_id: 'acme', daily_cap: null });
    expect(uncapped).toMatchObject({ daily_cap: null, monthly_cap: null });
  });

  it('refuses a device of an unknown customer (400 naming customer_id), and creates nothing', async () => {
    await expectError('PUT', '/v1/devices/orphan', { customer_id: 'nobody' }, 400, 'INVALID_ARGUMENT', 'customer_id');
    await expectError('GET', '/v1/devices/orphan', undefined, 404, 'NOT_FOUND', 'id');
  });

  it('refuses to move a device to another customer (409 CONFLICT), and changes nothing', async () => {
    const before = await service.http.ok('GET', '/v1/devices/acme-1');
    await expectError('PUT', '/v1/devices/acme-1', { customer_id: 'globex' }, 409, 'CONFLICT', 'customer_id');
    expect(await service.http.ok('GET', '/v1/devices/acme-1')).toEqual(before);
    expect((await service.grpc.ok('GetBalance', { device_id: 'acme-1' })).customer_id).toBe('acme');
  });

  it.each([
    ['daily_cap not a decimal', { daily_cap: 'lots' }, 'daily_cap'],
    ['daily_cap negative', { daily_cap: '-1' }, 'daily_cap'],
    ['daily_cap a JSON number', { daily_cap: 1 }, 'daily_cap'],
    ['monthly_cap with 7 decimals', { monthly_cap: '0.0000001' }, 'monthly_cap'],
    ['monthly_cap over 2^53-1 micros', { monthly_cap: '9007199254.740992' }, 'monthly_cap'],
    ['status unknown', { status: 'gone' }, 'status'],
    ['activated_at not RFC 3339', { activated_at: '2026-11-23' }, 'activated_at'],
    ['deactivated_at a number', { deactivated_at: 1_795_000_000_000 }, 'deactivated_at'],
    ['deactivated_at not after activated_at', { activated_at: '2026-11-23T10:00:00Z', deactivated_at: '2026-11-23T10:00:00Z' }, 'deactivated_at'],
    ['customer_id missing', { customer_id: undefined }, 'customer_id'],
    ['an unknown field', { imsi: '208011234567890' }, 'body'],
  ])('%s → 400 naming the field', async (_name, patch, field) => {
    await expectError('PUT', '/v1/devices/refused', { customer_id: 'acme', ...patch }, 400, 'INVALID_ARGUMENT', field);
    await expectError('GET', '/v1/devices/refused', undefined, 404, 'NOT_FOUND', 'id');
  });

  it('suspends and resumes, and answers 404 for an unknown device', async () => {
    expect((await service.http.ok('POST', '/v1/devices/globex-1/suspend')).status).toBe('suspended');
    expect((await service.http.ok('POST', '/v1/devices/globex-1/resume')).status).toBe('active');
    await expectError('GET', '/v1/devices/nothing', undefined, 404, 'NOT_FOUND', 'id');
    await expectError('POST', '/v1/devices/nothing/suspend', undefined, 404, 'NOT_FOUND', 'id');
  });
});

describe('allowances', () => {
  const body = (patch: object = {}) => ({ rating_group: DATA, units_total: '1000000', ...WINDOW, ...patch });

  it('creates (201), repeats the same create with 200 and the same body, and lists', async () => {
    const created = await service.http.request('POST', '/v1/customers/acme/allowances', body({ id: 'acme-data', device_id: 'acme-1', priority: 5 }));
    expect(created.status, created.text).toBe(201);
    expect(created.body).toEqual({
      id: 'acme-data', customer_id: 'acme', device_id: 'acme-1', scope: 'device', rating_group: DATA, units_total: '1000000', priority: 5,
      valid_from: '2026-01-01T00:00:00.000Z', valid_until: '2027-01-01T00:00:00.000Z',
    });
    const again = await service.http.request('POST', '/v1/customers/acme/allowances', body({ id: 'acme-data', device_id: 'acme-1', priority: 5, units_total: 1_000_000 }));
    expect(again.status, again.text).toBe(200);
    expect(again.body).toEqual(created.body);

    const pooled = await service.http.request('POST', '/v1/customers/acme/allowances', body({ rating_group: SMS, units_total: 100 }));
    expect(pooled.status).toBe(201);
    expect(pooled.body).toMatchObject({ scope: 'customer', device_id: null, priority: 0 });
    const { items } = await service.http.ok('GET', '/v1/customers/acme/allowances');
    expect(items).toEqual(expect.arrayContaining([created.body, pooled.body]));
    expect(items).toHaveLength(2);
    // A customer's balance shows the pool's allowances; a device's adds its own.
    expect((await service.grpc.ok('GetBalance', { customer_id: 'acme' })).allowances).toMatchObject([{ allowance_id: pooled.body.id }]);
    expect((await service.grpc.ok('GetBalance', { device_id: 'acme-1' })).allowances).toHaveLength(2);
  });

  it('refuses the same id with other settings (409 CONFLICT), and keeps the first', async () => {
    await service.http.ok('POST', '/v1/customers/globex/allowances', body({ id: 'globex-data' }));
    const before = await service.http.ok('GET', '/v1/customers/globex/allowances');
    await expectError('POST', '/v1/customers/globex/allowances', body({ id: 'globex-data', units_total: '2000000' }), 409, 'CONFLICT', 'id');
    await expectError('POST', '/v1/customers/acme/allowances', body({ id: 'globex-data' }), 409, 'CONFLICT', 'id');
    expect(await service.http.ok('GET', '/v1/customers/globex/allowances')).toEqual(before);
  });

  it.each([
    ['valid_until before valid_from', { valid_from: '2026-06-01T00:00:00Z', valid_until: '2026-05-01T00:00:00Z' }, 'valid_until'],
    ['valid_until equal to valid_from', { valid_from: '2026-06-01T00:00:00Z', valid_until: '2026-06-01T00:00:00Z' }, 'valid_until'],
    ['valid_from not a timestamp', { valid_from: 'soon' }, 'valid_from'],
    ['device_id of another customer', { device_id: 'globex-1' }, 'device_id'],
    ['device_id unknown', { device_id: 'nothing' }, 'device_id'],
    ['rating_group unknown', { rating_group: UNKNOWN_GROUP }, 'rating_group'],
    ['units_total negative', { units_total: -1 }, 'units_total'],
    ['units_total over 2^53-1', { units_total: '9007199254740992' }, 'units_total'],
    ['units_total a decimal', { units_total: '1.5' }, 'units_total'],
    ['priority 1000', { priority: 1000 }, 'priority'],
    ['id with a space', { id: 'a b' }, 'id'],
    ['an unknown field', { name: 'bonus' }, 'body'],
  ])('%s → 400 naming the field, and nothing is created', async (_name, patch, field) => {
    const before = await service.http.ok('GET', '/v1/customers/acme/allowances');
    await expectError('POST', '/v1/customers/acme/allowances', body({ id: 'refused', ...patch }), 400, 'INVALID_ARGUMENT', field);
    expect(await service.http.ok('GET', '/v1/customers/acme/allowances')).toEqual(before);
  });

  it('answers 404 naming customer_id for an unknown customer', async () => {
    await expectError('POST', '/v1/customers/nobody/allowances', body(), 404, 'NOT_FOUND', 'customer_id');
  });

  // Date.parse would roll "2026-02-30" over to 2 March and take "5" as 2001-05-01 in the
  // server's time zone.
  it.each([
    ['valid_from', '2026-02-30T00:00:00Z'], ['valid_from', '5'], ['valid_from', '2026-11-23 10:00:00'],
    ['valid_until', '2027-02-29T00:00:00Z'], ['valid_until', '5'], ['valid_until', '2026-12-01T24:00:00Z'],
  ])('%s "%s" → 400 naming it, and nothing is created', async (field, text) => {
    const before = await service.http.ok('GET', '/v1/customers/acme/allowances');
    await expectError('POST', '/v1/customers/acme/allowances', body({ id: 'odd-time', [field]: text }), 400, 'INVALID_ARGUMENT', field);
    expect(await service.http.ok('GET', '/v1/customers/acme/allowances')).toEqual(before);
  });

  it('reads valid_from and valid_until with their offsets and fractions', async () => {
    const created = await service.http.ok('POST', '/v1/customers/globex/allowances', body({
      id: 'globex-offset', valid_from: '2026-03-01T01:30:00.5+01:30', valid_until: '2028-02-29T23:59:59.123456789z',
    }));
    expect(created).toMatchObject({ valid_from: '2026-03-01T00:00:00.500Z', valid_until: '2028-02-29T23:59:59.123Z' });
  });
});

describe('ADMIN_TOKEN', () => {
  let guarded: TestService;
  beforeAll(async () => {
    guarded = await startTestService('provisioning-token', { environment: { ADMIN_TOKEN: 'secret' } });
  });
  afterAll(() => guarded?.close());

  it.each([
    ['no Authorization header', {}],
    ['the wrong token', { authorization: 'Bearer wrong' }],
    ['the token without "Bearer"', { authorization: 'secret' }],
    ['a longer token', { authorization: 'Bearer secret2' }],
  ])('refuses /v1 routes with %s: 401 UNAUTHENTICATED', async (_name, headers) => {
    for (const [method, path, body] of [
      ['GET', '/v1/customers', undefined],
      ['PUT', '/v1/customers/sneaky', { name: 'Sneaky', currency: 'EUR' }],
      ['GET', '/v1/no-such-route', undefined],
      ['POST', '/v1/top-ups', { top_up_id: 't', customer_id: 'sneaky', amount: '1', currency: 'EUR' }],
    ] as const) {
      const response = await guarded.http.request(method, path, body, headers);
      expect(response.status, `${method} ${path}: ${response.text}`).toBe(401);
      expect(response.body.error).toMatchObject({ code: 'UNAUTHENTICATED', field: 'authorization' });
    }
    const authorized = await guarded.http.request('GET', '/v1/customers/sneaky', undefined, { authorization: 'Bearer secret' });
    expect(authorized.status).toBe(404);
  });

  it('serves /v1 routes with the bearer token', async () => {
    const headers = { authorization: 'Bearer secret' };
    const created = await guarded.http.request('PUT', '/v1/customers/trusted', { name: 'Trusted', currency: 'EUR' }, headers);
    expect(created.status, created.text).toBe(200);
    const listed = await guarded.http.request('GET', '/v1/customers', undefined, headers);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((customer: { id: string }) => customer.id)).toEqual(['trusted']);
  });

  it('leaves /healthz open', async () => {
    const health = await guarded.http.request('GET', '/healthz');
    expect(health).toMatchObject({ status: 200, body: { redis: true, postgres: true } });
  });

  it.each([['/v1%2Fcustomers'], ['//v1/customers'], ['/V1/customers']])('is not passed by GET %s', async (path) => {
    const response = await guarded.http.request('GET', path);
    expect([401, 404], `${path}: ${response.status} ${response.text}`).toContain(response.status);
  });

  // The router decodes percent-escapes before matching ("%76" is "v"), so these paths reach the
  // /v1 routes: reading customers, creating them, and topping up wallets. The token is checked
  // against the route matched, never the raw URL.
  it.each([
    ['GET', '/%761/customers', undefined],
    ['PUT', '/%761/customers/intruder', { name: 'Intruder', currency: 'EUR' }],
    ['POST', '/%76%31/top-ups', { top_up_id: 'free-money', customer_id: 'trusted', amount: '1000', currency: 'EUR' }],
    ['GET', '/v1/customers/%74rusted', undefined],
  ])('is not passed by %s %s', async (method, path, body) => {
    const response = await guarded.http.request(method, path, body);
    expect(response.status, `${path}: ${response.status} ${response.text}`).toBe(401);
    expect(response.body.error).toMatchObject({ code: 'UNAUTHENTICATED', field: 'authorization' });
  });

  it('serves a percent-encoded /v1 path only with the token, and the refused attempts changed nothing', async () => {
    const headers = { authorization: 'Bearer secret' };
    await guarded.http.request('PUT', '/v1/customers/trusted', { name: 'Trusted', currency: 'EUR' }, headers);
    const refused = await guarded.http.request('POST', '/%76%31/top-ups', { top_up_id: 'free-money', customer_id: 'trusted', amount: '1000', currency: 'EUR' });
    expect(refused.status, refused.text).toBe(401);
    const listed = await guarded.http.request('GET', '/%761/customers', undefined, headers);
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.items.map((customer: { id: string }) => customer.id)).toEqual(['trusted']);
    expect((await guarded.grpc.ok('GetBalance', { customer_id: 'trusted' })).wallet.balance).toBe('0.000000');
  });
});

// Invariant 6, bounded and explicit: every malformed or out-of-range charging input is refused
// with the catalogued status and code, a message and field that name the field in proto terms,
// and nothing changes: the wallet, the allowances, the event streams and every other key of
// this file's keyspace are identical before and after. Both transports, in the order the fields
// are checked, so the first broken field is the one reported.
import * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalogue, type ErrorCode } from '../../src/errors.js';
import { projectPath } from '../../src/paths.js';
import { provisionFleet, ratingGroups, START_MS, startTestService, type TestService } from '../support/service.js';

let service: TestService;
const DATA = 1;
const SMS = 2;
const UNKNOWN_GROUP = 99;
const CUSTOMER = 'bad';
const DEVICE = 'bad-dev';
const OTHER_DEVICE = 'bad-dev-2';
const UNITS_MAX = '9007199254740991';
const UNITS_OVER_MAX = '9007199254740992';
const ID_TOO_LONG = 'i'.repeat(129);
const ID_LONGEST = 'i'.repeat(128);
const SCAN_ROUNDS_MAX = 1000;

beforeAll(async () => {
  service = await startTestService('bad-input');
  await ratingGroups(service, [[DATA, 'bytes'], [SMS, 'events']]);
  await service.app.catalog.loadRatingGroups();
  await provisionFleet(service, {
    customerId: CUSTOMER, devices: [DEVICE, OTHER_DEVICE], balance: '100.00',
    tariff: { id: 'bad-tariff', rates: [{ rating_group: SMS, price: '0.01', per_units: 1, increment_units: 1 }, { rating_group: DATA, price: '1.00', per_units: 1_000_000, increment_units: 1000 }] },
  });
  await service.http.ok('POST', `/v1/customers/${CUSTOMER}/allowances`, {
    id: 'bad-data', rating_group: DATA, units_total: 1_000_000, valid_from: '2026-01-01T00:00:00Z', valid_until: '2027-01-01T00:00:00Z',
  });
  await provisionFleet(service, { customerId: 'dollars', devices: [], currency: 'USD' });
  // An open session, so that held money and held allowance units are part of what must not move.
  await service.grpc.ok('Reserve', {
    session_id: 'open', request_number: 1, device_id: DEVICE,
    items: [{ rating_group: SMS, requested_units: '10' }, { rating_group: DATA, requested_units: '5000' }],
  });
});
afterAll(() => service?.close());

// What must not change.

interface Snapshot {
  wallet: { balance: string | null; held: string | null };
  events: number;
  keys: Record<string, unknown>;
}

async function snapshot(): Promise<Snapshot> {
  const { keys } = service.app;
  const [balance, held] = await service.redis.hmget(keys.wallet(CUSTOMER), 'balance', 'held');
  let events = 0;
  for (let partition = 0; partition < keys.partitionCount; partition++) events += await service.redis.xlen(keys.stream(partition));
  return { wallet: { balance: balance ?? null, held: held ?? null }, events, keys: await dumpKeyspace() };
}

/** Every key of this file's prefix with its value, so any write at all shows up in a diff. */
async function dumpKeyspace(): Promise<Record<string, unknown>> {
  const redis = service.context.redis;
  const found: string[] = [];
  let cursor = '0';
  for (let round = 0; round < SCAN_ROUNDS_MAX; round++) {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${service.context.keyPrefix}*`, 'COUNT', 1000);
    found.push(...batch);
    cursor = next;
    if (cursor === '0') break;
  }
  const dump: Record<string, unknown> = {};
  for (const key of found.sort()) {
    const type = await redis.type(key);
    if (type === 'string') dump[key] = await redis.get(key);
    else if (type === 'hash') dump[key] = await redis.hgetall(key);
    else if (type === 'zset') dump[key] = await redis.zrange(key, 0, -1, 'WITHSCORES');
    else if (type === 'set') dump[key] = (await redis.smembers(key)).sort();
    else if (type === 'stream') dump[key] = { length: await redis.xlen(key), last: (await redis.xrevrange(key, '+', '-', 'COUNT', 1))[0]?.[0] };
    else dump[key] = type;
  }
  return dump;
}

// How a refusal must look on each transport.

interface Refusal {
  field: string;
  code?: ErrorCode;
}

type Transport = 'grpc' | 'http';

const HTTP_ROUTES = {
  Reserve: ['POST', '/v1/charging/reserve'],
  Commit: ['POST', '/v1/charging/commit'],
  Release: ['POST', '/v1/charging/release'],
  Charge: ['POST', '/v1/charging/charge'],
  TopUp: ['POST', '/v1/top-ups'],
} as const;

type Rpc = keyof typeof HTTP_ROUTES;

async function expectRefused(transport: Transport, method: Rpc, body: unknown, refusal: Refusal): Promise<void> {
  const code = refusal.code ?? 'INVALID_ARGUMENT';
  const before = await snapshot();
  if (transport === 'grpc') {
    const result = await service.grpc.call(method, body);
    expect(result.ok, `${method} was accepted: ${JSON.stringify(result)}`).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: errorCatalogue[code].grpc, errorCode: code, field: refusal.field });
    expect(result.error.details.startsWith(`${refusal.field}: `), result.error.details).toBe(true);
  } else {
    const [verb, path] = HTTP_ROUTES[method];
    const response = await service.http.request(verb, path, body);
    expect(response.status, response.text).toBe(errorCatalogue[code].http);
    expect(response.body.error).toMatchObject({ code, field: refusal.field });
    expect(response.body.error.message.startsWith(`${refusal.field}: `), response.body.error.message).toBe(true);
  }
  expect(await snapshot()).toEqual(before);
}

// The tables. A case's patch replaces top-level fields of a valid request; `undefined` drops
// one. gRPC cannot carry some JSON inputs at all (a decimal or a string in an integer field,
// a negative uint32): the client's encoder coerces them before they leave. Such a case has
// `grpc: null`, or a `grpc` patch with what the wire carries instead.

interface Case extends Refusal {
  name: string;
  patch: Record<string, unknown>;
  grpc?: Record<string, unknown> | null;
  /** Sent instead of a patched request, for a body that is not an object at all. */
  whole?: unknown;
}

function forTransport(cases: Case[], transport: Transport): [string, Case][] {
  const selected = transport === 'http'
    ? cases
    : cases.filter((row) => row.grpc !== null).map((row) => ({ ...row, patch: row.grpc ?? row.patch }));
  return selected.map((row) => [row.name, row]);
}

const sms = (units: unknown) => [{ rating_group: SMS, requested_units: units }];
const timestampFor = (ms: number) => ({ seconds: String(Math.floor(ms / 1000)), nanos: 0 });

function idCases(field: string): Case[] {
  return [
    { name: `${field} missing`, patch: { [field]: undefined }, field },
    { name: `${field} empty`, patch: { [field]: '' }, field },
    { name: `${field} 129 characters`, patch: { [field]: ID_TOO_LONG }, field },
    { name: `${field} with a control character`, patch: { [field]: 'a\u0001b' }, field },
    { name: `${field} with a space`, patch: { [field]: 'a b' }, field },
    { name: `${field} not ASCII`, patch: { [field]: 'é' }, field },
    { name: `${field} a number`, patch: { [field]: 12 }, field, grpc: null },
  ];
}

const headerCases: Case[] = [
  { name: 'event_time not a timestamp', patch: { event_time: 'not a time' }, field: 'event_time', grpc: { event_time: { seconds: '0' } } },
  { name: 'event_time before 2000', patch: { event_time: '1999-12-31T23:59:59Z' }, field: 'event_time', grpc: { event_time: timestampFor(Date.UTC(1999, 11, 31)) } },
  { name: 'event_time over a day ahead', patch: { event_time: new Date(START_MS + 86_400_001).toISOString() }, field: 'event_time', grpc: { event_time: timestampFor(START_MS + 86_401_000) } },
  ...idCases('session_id'),
  { name: 'request_number missing', patch: { request_number: undefined }, field: 'request_number' },
  { name: 'request_number 0', patch: { request_number: 0 }, field: 'request_number' },
  { name: 'request_number negative', patch: { request_number: -1 }, field: 'request_number', grpc: null },
  { name: 'request_number over 2^32-1', patch: { request_number: 4_294_967_296 }, field: 'request_number', grpc: null },
  { name: 'request_number not numeric', patch: { request_number: 'abc' }, field: 'request_number', grpc: null },
  { name: 'request_number a decimal', patch: { request_number: 1.5 }, field: 'request_number', grpc: null },
  ...idCases('device_id'),
  { name: 'location not an object', patch: { location: 'here' }, field: 'location', grpc: null },
  { name: 'location.mcc "ab"', patch: { location: { mcc: 'ab', mnc: '01' } }, field: 'location.mcc' },
  { name: 'location.mnc one digit', patch: { location: { mcc: '208', mnc: '1' } }, field: 'location.mnc' },
  { name: 'location.zone 65 characters', patch: { location: { mcc: '208', mnc: '01', zone: 'z'.repeat(65) } }, field: 'location.zone' },
  { name: 'attributes not an object', patch: { attributes: 'apn' }, field: 'attributes', grpc: null },
  { name: 'attributes.apn 101 characters', patch: { attributes: { apn: 'a'.repeat(101) } }, field: 'attributes.apn' },
  { name: 'attributes.apn with a control character', patch: { attributes: { apn: 'iot\n' } }, field: 'attributes.apn' },
  { name: 'attributes.device_type 65 characters', patch: { attributes: { device_type: 't'.repeat(65) } }, field: 'attributes.device_type' },
  { name: 'attributes.service_id negative', patch: { attributes: { service_id: -1 } }, field: 'attributes.service_id', grpc: null },
  { name: 'attributes.qos_class a decimal', patch: { attributes: { qos_class: 1.5 } }, field: 'attributes.qos_class', grpc: null },
  { name: 'attributes with an unknown field', patch: { attributes: { imei: '1' } }, field: 'attributes.imei', grpc: null },
];

function itemCases(unitsField: 'requested_units' | 'used_units', otherUnits: Record<string, unknown>): Case[] {
  const item = (units: unknown) => [{ rating_group: SMS, ...otherUnits, [unitsField]: units }];
  const field = `items[0].${unitsField}`;
  return [
    { name: `${field} over 2^53-1`, patch: { items: item(UNITS_OVER_MAX) }, field },
    { name: `${field} over 2^53-1 as a JSON number`, patch: { items: item(2 ** 53) }, field, grpc: null },
    // On the wire a negative uint64 is its two's complement, far over the limit.
    { name: `${field} negative`, patch: { items: item(-5) }, field, grpc: { items: item('-5') } },
    { name: `${field} negative string`, patch: { items: item('-5') }, field },
    { name: `${field} not numeric`, patch: { items: item('abc') }, field, grpc: null },
    { name: `${field} a decimal string`, patch: { items: item('1.5') }, field, grpc: null },
    { name: `${field} a decimal number`, patch: { items: item(1.5) }, field, grpc: null },
    { name: `${field} 21 digits`, patch: { items: item('1'.repeat(21)) }, field, grpc: null },
  ];
}

function listCases(): Case[] {
  return [
    { name: 'items missing', patch: { items: undefined }, field: 'items' },
    { name: 'items empty', patch: { items: [] }, field: 'items' },
    { name: 'items not a list', patch: { items: 'all' }, field: 'items', grpc: null },
    { name: '33 items (the limit is 32)', patch: { items: Array.from({ length: 33 }, () => sms('1')[0]) }, field: 'items' },
    { name: 'items[0] not an object', patch: { items: [5] }, field: 'items[0]', grpc: null },
    { name: 'items[0].rating_group missing', patch: { items: [{ requested_units: '1', used_units: '1' }] }, field: 'items[0].rating_group' },
    { name: 'items[0].rating_group 0', patch: { items: [{ rating_group: 0, requested_units: '1', used_units: '1' }] }, field: 'items[0].rating_group' },
    { name: 'items[0].rating_group unknown', patch: { items: [{ rating_group: UNKNOWN_GROUP, requested_units: '1', used_units: '1' }] }, field: 'items[0].rating_group' },
    { name: 'items[0].rating_group not numeric', patch: { items: [{ rating_group: 'sms', requested_units: '1', used_units: '1' }] }, field: 'items[0].rating_group', grpc: null },
    {
      name: 'items[1].rating_group a duplicate',
      patch: { items: [{ rating_group: SMS, requested_units: '1', used_units: '1' }, { rating_group: SMS, requested_units: '2', used_units: '2' }] },
      field: 'items[1].rating_group',
    },
  ];
}

let sequence = 0;
const unique = (stem: string) => `${stem}-${++sequence}`;

const reserveBody = () => ({ session_id: unique('reserve'), request_number: 1, device_id: DEVICE, items: sms('5') });
const commitBody = () => ({ session_id: 'open', request_number: 2, device_id: DEVICE, items: [{ rating_group: SMS, used_units: '3', requested_units: '5' }] });
const releaseBody = () => ({ session_id: 'open', request_number: 2, device_id: DEVICE, rating_groups: [SMS] });
const chargeBody = () => ({ event_id: unique('event'), device_id: DEVICE, rating_group: SMS, units: '1' });
const topUpBody = () => ({ top_up_id: unique('top-up'), customer_id: CUSTOMER, amount: '1.00', currency: 'EUR' });

const reserveCases: Case[] = [
  { name: 'the request not an object', patch: {}, whole: [], field: 'request', grpc: null },
  ...headerCases,
  ...listCases(),
  ...itemCases('requested_units', {}),
  { name: 'items[0].requested_units missing', patch: { items: [{ rating_group: SMS }] }, field: 'items[0].requested_units' },
  { name: 'items[0].requested_units 0', patch: { items: sms('0') }, field: 'items[0].requested_units' },
  { name: 'items[0].requested_units empty', patch: { items: sms('') }, field: 'items[0].requested_units', grpc: null },
];

const commitCases: Case[] = [
  ...headerCases,
  ...listCases(),
  ...itemCases('used_units', { requested_units: '1' }),
  ...itemCases('requested_units', { used_units: '1' }),
  { name: 'final not a boolean', patch: { final: 'yes' }, field: 'final', grpc: null },
];

const releaseCases: Case[] = [
  ...idCases('session_id'),
  { name: 'request_number 0', patch: { request_number: 0 }, field: 'request_number' },
  ...idCases('device_id'),
  { name: 'rating_groups not a list', patch: { rating_groups: 2 }, field: 'rating_groups', grpc: null },
  { name: '33 rating_groups (the limit is 32)', patch: { rating_groups: Array.from({ length: 33 }, () => SMS) }, field: 'rating_groups' },
  { name: 'rating_groups[0] unknown', patch: { rating_groups: [UNKNOWN_GROUP] }, field: 'rating_groups[0]' },
  { name: 'rating_groups[0] 0', patch: { rating_groups: [0] }, field: 'rating_groups[0]' },
  { name: 'rating_groups[1] a duplicate', patch: { rating_groups: [SMS, SMS] }, field: 'rating_groups[1]' },
];

const chargeCases: Case[] = [
  { name: 'the request not an object', patch: {}, whole: [], field: 'request', grpc: null },
  { name: 'event_time not a timestamp', patch: { event_time: 'yesterday' }, field: 'event_time', grpc: { event_time: { seconds: '0' } } },
  { name: 'units missing', patch: { units: undefined }, field: 'units' },
  { name: 'units 0', patch: { units: '0' }, field: 'units' },
  { name: 'units over 2^53-1', patch: { units: UNITS_OVER_MAX }, field: 'units' },
  { name: 'units negative', patch: { units: -1 }, field: 'units', grpc: { units: '-1' } },
  { name: 'units not numeric', patch: { units: 'abc' }, field: 'units', grpc: null },
  { name: 'units a decimal', patch: { units: '2.5' }, field: 'units', grpc: null },
  ...idCases('event_id'),
  ...idCases('device_id'),
  { name: 'rating_group missing', patch: { rating_group: undefined }, field: 'rating_group' },
  { name: 'rating_group unknown', patch: { rating_group: UNKNOWN_GROUP }, field: 'rating_group' },
  { name: 'rating_group over 2^32-1', patch: { rating_group: 4_294_967_296 }, field: 'rating_group', grpc: null },
  { name: 'location.mcc "ab"', patch: { location: { mcc: 'ab' } }, field: 'location.mcc' },
  { name: 'attributes.apn 101 characters', patch: { attributes: { apn: 'a'.repeat(101) } }, field: 'attributes.apn' },
];

const topUpCases: Case[] = [
  { name: 'the request not an object', patch: {}, whole: [], field: 'request', grpc: null },
  ...idCases('top_up_id'),
  ...idCases('customer_id'),
  { name: 'amount missing', patch: { amount: undefined }, field: 'amount' },
  { name: 'amount negative', patch: { amount: '-1.00' }, field: 'amount' },
  { name: 'amount zero', patch: { amount: '0' }, field: 'amount' },
  { name: 'amount "abc"', patch: { amount: 'abc' }, field: 'amount' },
  { name: 'amount with 7 decimals', patch: { amount: '1.0000001' }, field: 'amount' },
  { name: 'amount over 2^53-1 micros', patch: { amount: '9007199254.740992' }, field: 'amount' },
  { name: 'amount in exponent notation', patch: { amount: '1e3' }, field: 'amount' },
  { name: 'amount a JSON number', patch: { amount: 5 }, field: 'amount', grpc: null },
  { name: 'currency missing', patch: { currency: undefined }, field: 'currency' },
  { name: 'currency unknown ("XXX")', patch: { currency: 'XXX' }, field: 'currency' },
  { name: 'currency in lower case', patch: { currency: 'eur' }, field: 'currency' },
  { name: 'customer unknown', patch: { customer_id: 'nobody' }, field: 'customer_id', code: 'NOT_FOUND' },
  { name: 'currency not the wallet\'s', patch: { currency: 'USD' }, field: 'currency', code: 'CURRENCY_MISMATCH' },
];

const tables: [Rpc, () => Record<string, unknown>, Case[]][] = [
  ['Reserve', reserveBody, reserveCases],
  ['Commit', commitBody, commitCases],
  ['Release', releaseBody, releaseCases],
  ['Charge', chargeBody, chargeCases],
  ['TopUp', topUpBody, topUpCases],
];

for (const transport of ['grpc', 'http'] as const) {
  describe(`${transport === 'grpc' ? 'gRPC' : 'HTTP/JSON'}: a malformed or out-of-range field is refused, named, and changes nothing`, () => {
    for (const [method, valid, cases] of tables) {
      it.each(forTransport(cases, transport))(`${method}: %s`, async (_name, row) => {
        await expectRefused(transport, method, row.whole ?? { ...valid(), ...row.patch }, row);
      });
    }
  });
}

describe('the first broken field is the one reported', () => {
  // Every field broken at once, then mended one at a time, in the order they are checked.
  const reserveSteps: [string, Record<string, unknown>][] = [
    ['event_time', { event_time: { seconds: '0' } }],
    ['session_id', { session_id: '' }],
    ['request_number', { request_number: 0 }],
    ['device_id', { device_id: ID_TOO_LONG }],
    ['location.mcc', { location: { mcc: 'ab' } }],
    ['items', { items: [] }],
  ];
  const topUpSteps: [string, Record<string, unknown>][] = [
    ['top_up_id', { top_up_id: '' }],
    ['customer_id', { customer_id: 'a b' }],
    ['amount', { amount: '0' }],
    ['currency', { currency: 'XXX' }],
  ];

  it.each(['grpc', 'http'] as const)('Reserve over %s', (transport) => reservePrecedence(transport));

  async function reservePrecedence(transport: Transport) {
    for (let step = 0; step < reserveSteps.length; step++) {
      const broken = Object.assign({}, ...reserveSteps.slice(step).map(([, patch]) => patch)) as Record<string, unknown>;
      await expectRefused(transport, 'Reserve', { ...reserveBody(), ...broken }, { field: reserveSteps[step]![0] });
    }
  }

  it.each(['grpc', 'http'] as const)('TopUp over %s, the syntax before the customer and the currency it holds', async (transport) => {
    for (let step = 0; step < topUpSteps.length; step++) {
      const broken = Object.assign({ customer_id: 'nobody' }, ...topUpSteps.slice(step).map(([, patch]) => patch)) as Record<string, unknown>;
      await expectRefused(transport, 'TopUp', { ...topUpBody(), ...broken }, { field: topUpSteps[step]![0] });
    }
    await expectRefused(transport, 'TopUp', { ...topUpBody(), customer_id: 'nobody', currency: 'USD' }, { field: 'customer_id', code: 'NOT_FOUND' });
  });
});

describe('the limits themselves are accepted', () => {
  it('takes ids of 128 characters and units of 2^53-1 (the grant is bounded by the wallet, not refused)', async () => {
    const answer = await service.grpc.ok('Reserve', { session_id: ID_LONGEST, request_number: 1, device_id: DEVICE, items: [{ rating_group: SMS, requested_units: UNITS_MAX }] });
    expect(answer).toMatchObject({ session_id: ID_LONGEST, request_number: 1, result: 'RESULT_CODE_SUCCESS' });
    expect(BigInt(answer.items[0].granted_units)).toBeGreaterThan(0n);
    const end = await service.grpc.ok('Commit', {
      session_id: ID_LONGEST, request_number: 4_294_967_295, device_id: DEVICE, final: true, items: [{ rating_group: SMS, used_units: '0', requested_units: '0' }],
    });
    expect(end).toMatchObject({ request_number: 4_294_967_295, result: 'RESULT_CODE_SUCCESS' });
  });

  it('takes the largest top-up the wallet can hold up to, and refuses past it with BALANCE_LIMIT', async () => {
    await provisionFleet(service, { customerId: 'rich', devices: [] });
    const top = await service.grpc.ok('TopUp', { top_up_id: 'rich-1', customer_id: 'rich', amount: '9007199254.740991', currency: 'EUR' });
    expect(top.wallet.balance).toBe('9007199254.740991');
    const before = await snapshot();
    const over = await service.grpc.call('TopUp', { top_up_id: 'rich-2', customer_id: 'rich', amount: '0.000001', currency: 'EUR' });
    expect(over).toMatchObject({ ok: false, error: { code: GrpcStatus.FAILED_PRECONDITION, errorCode: 'BALANCE_LIMIT', field: 'amount' } });
    expect(await snapshot()).toEqual(before);
  });
  it('counts the credit limit in what a wallet can hold, since available money is their sum', async () => {
    await provisionFleet(service, { customerId: 'lent', devices: [] });
    await service.http.ok('PUT', '/v1/customers/lent', { name: 'lent', currency: 'EUR', credit_limit: '1.00' });
    await service.grpc.ok('TopUp', { top_up_id: 'lent-1', customer_id: 'lent', amount: '9007199253.740991', currency: 'EUR' });
    const over = await service.grpc.call('TopUp', { top_up_id: 'lent-2', customer_id: 'lent', amount: '0.000001', currency: 'EUR' });
    expect(over).toMatchObject({ ok: false, error: { errorCode: 'BALANCE_LIMIT', field: 'amount' } });
  });
});

describe('GetBalance names exactly one owner', () => {
  it.each([
    ['both customer_id and device_id', { customer_id: CUSTOMER, device_id: DEVICE }],
    ['neither', {}],
    ['both empty', { customer_id: '', device_id: '' }],
  ])('gRPC: %s → INVALID_ARGUMENT', async (_name, request) => {
    const result = await service.grpc.call('GetBalance', request);
    expect(result).toMatchObject({ ok: false, error: { code: GrpcStatus.INVALID_ARGUMENT, errorCode: 'INVALID_ARGUMENT', field: 'customer_id' } });
  });

  it.each([
    ['customer_id 129 characters', { customer_id: ID_TOO_LONG }, 'customer_id', 'INVALID_ARGUMENT'],
    ['device_id with a space', { device_id: 'a b' }, 'device_id', 'INVALID_ARGUMENT'],
    ['an unknown customer', { customer_id: 'nobody' }, 'customer_id', 'NOT_FOUND'],
    ['an unknown device', { device_id: 'nothing' }, 'device_id', 'NOT_FOUND'],
  ] as const)('gRPC: %s', async (_name, request, field, code) => {
    const result = await service.grpc.call('GetBalance', request);
    expect(result).toMatchObject({ ok: false, error: { code: errorCatalogue[code].grpc, errorCode: code, field } });
  });

  // Fastify's default maxParamLength (100) is below the id limit (128): a path id of 101 to 128
  // characters must still be routed, and one over the limit refused like any other bad id.
  it.each([
    ['128', `/v1/balances/customers/${ID_LONGEST}`, 404, 'NOT_FOUND', 'customer_id'],
    ['129', `/v1/balances/customers/${ID_TOO_LONG}`, 400, 'INVALID_ARGUMENT', 'customer_id'],
  ])('HTTP: GET /v1/balances/customers/<%s characters> → %i', async (_length, path, status, code, field) => {
    const response = await service.http.request('GET', path);
    expect(response.status, response.text).toBe(status);
    expect(response.body.error).toMatchObject({ code, field });
  });

  it.each([
    ['/v1/balances/customers/', 400, 'INVALID_ARGUMENT', 'customer_id'],
    ['/v1/balances/devices/a%20b', 400, 'INVALID_ARGUMENT', 'device_id'],
    ['/v1/balances/customers/nobody', 404, 'NOT_FOUND', 'customer_id'],
    ['/v1/balances/devices/nothing', 404, 'NOT_FOUND', 'device_id'],
  ])('HTTP: GET %s → %i', async (path, status, code, field) => {
    const response = await service.http.request('GET', path);
    expect(response.status, response.text).toBe(status);
    expect(response.body.error).toMatchObject({ code, field });
  });
});

describe('a different payload under the same identity', () => {
  it.each(['grpc', 'http'] as const)('%s: Reserve with a used (session_id, request_number) → IDEMPOTENCY_CONFLICT', async (transport) => {
    const body = { ...reserveBody(), session_id: unique(`conflict-${transport}`) };
    await service.grpc.ok('Reserve', body);
    await expectRefused(transport, 'Reserve', { ...body, items: sms('6') }, { field: 'request_number', code: 'IDEMPOTENCY_CONFLICT' });
    // Another device under the same session id is a session of its own (idempotency.test.ts), not a conflict.
    await service.grpc.ok('Release', { session_id: body.session_id, request_number: 2, device_id: DEVICE });
  });

  it.each(['grpc', 'http'] as const)('%s: Charge with a used event_id → IDEMPOTENCY_CONFLICT', async (transport) => {
    const body = chargeBody();
    await service.grpc.ok('Charge', body);
    await expectRefused(transport, 'Charge', { ...body, units: '2' }, { field: 'event_id', code: 'IDEMPOTENCY_CONFLICT' });
  });

  it.each(['grpc', 'http'] as const)('%s: TopUp with a used top_up_id → IDEMPOTENCY_CONFLICT', async (transport) => {
    const body = topUpBody();
    await service.grpc.ok('TopUp', body);
    await expectRefused(transport, 'TopUp', { ...body, amount: '2.00' }, { field: 'top_up_id', code: 'IDEMPOTENCY_CONFLICT' });
  });
});

describe('HTTP only: the body itself', () => {
  async function expectHttpRefused(request: () => Promise<{ status: number; body: any; text: string }>, status: number, code: ErrorCode, field?: string) {
    const before = await snapshot();
    const response = await request();
    expect(response.status, response.text).toBe(status);
    expect(response.body.error).toMatchObject({ code, ...(field === undefined ? {} : { field }) });
    expect(errorCatalogue[code].http).toBe(status);
    expect(await snapshot()).toEqual(before);
  }
  const reserve = (body: unknown, headers: Record<string, string> = {}) => () => service.http.request('POST', '/v1/charging/reserve', body, headers);

  it.each([
    ['malformed JSON', '{"session_id": "s", '],
    ['an empty body', ''],
  ])('%s → 400 INVALID_ARGUMENT naming the body', async (_name, text) => {
    await expectHttpRefused(reserve(text), 400, 'INVALID_ARGUMENT', 'body');
  });

  it('a JSON null body → 400 naming the request', async () => {
    await expectHttpRefused(reserve('null'), 400, 'INVALID_ARGUMENT', 'request');
  });

  it('an application/xml body → 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    await expectHttpRefused(reserve('<reserve/>', { 'content-type': 'application/xml' }), 415, 'UNSUPPORTED_MEDIA_TYPE', 'content-type');
  });

  // Fastify parses text/plain by default; such a body must not reach the use case as a string.
  it('a text/plain body, even one holding valid JSON → 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    await expectHttpRefused(reserve(JSON.stringify(reserveBody()), { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE', 'content-type');
  });

  it('a body of exactly BODY_BYTES_MAX is read; one byte more → 413 PAYLOAD_TOO_LARGE', async () => {
    const bodyBytesMax = service.config.bodyBytesMax;
    const padded = (size: number) => {
      const text = JSON.stringify({ ...reserveBody(), session_id: '' });
      return `${text.slice(0, -1)}${' '.repeat(size - text.length)}}`;
    };
    expect(Buffer.byteLength(padded(bodyBytesMax))).toBe(bodyBytesMax);
    await expectHttpRefused(reserve(padded(bodyBytesMax)), 400, 'INVALID_ARGUMENT', 'session_id');
    await expectHttpRefused(reserve(padded(bodyBytesMax + 1)), 413, 'PAYLOAD_TOO_LARGE', 'body');
  });

  it.each([
    ['POST', '/v1/charging/reserve-all'],
    ['GET', '/v1/charging/reserve'],
    ['GET', '/nowhere'],
  ])('%s %s → 404 NOT_FOUND', async (method, path) => {
    await expectHttpRefused(() => service.http.request(method, path), 404, 'NOT_FOUND');
  });

  it('a path with a broken percent-escape → 400 INVALID_ARGUMENT naming the path', async () => {
    await expectHttpRefused(() => service.http.request('GET', '/v1/balances/customers/%E0%A4%A'), 400, 'INVALID_ARGUMENT', 'path');
  });
});

describe('gRPC only: the message size', () => {
  it('refuses a message over 64 KiB with RESOURCE_EXHAUSTED, and changes nothing', async () => {
    const before = await snapshot();
    const result = await service.grpc.call('Reserve', { ...reserveBody(), location: { mcc: '208', mnc: '01', zone: 'z'.repeat(70_000) } });
    // grpc-js refuses it before any handler runs, so it carries no io-error-code trailer; the
    // status is the one the catalogue gives PAYLOAD_TOO_LARGE.
    expect(result).toMatchObject({ ok: false, error: { code: errorCatalogue.PAYLOAD_TOO_LARGE.grpc } });
    expect(await snapshot()).toEqual(before);
  });
});

describe('HTTP only: proto3 JSON names', () => {
  it('accepts lowerCamelCase field names and answers with proto names', async () => {
    const sessionId = unique('camel');
    const answer = await service.http.ok('POST', '/v1/charging/reserve', {
      sessionId, requestNumber: 1, deviceId: DEVICE, eventTime: new Date(START_MS).toISOString(),
      items: [{ ratingGroup: SMS, requestedUnits: '4' }],
    });
    expect(answer).toMatchObject({ session_id: sessionId, request_number: 1, result: 'RESULT_CODE_SUCCESS', items: [{ rating_group: SMS, granted_units: '4' }] });
    const commit = await service.http.ok('POST', '/v1/charging/commit', {
      sessionId, requestNumber: 2, deviceId: DEVICE, final: true, items: [{ ratingGroup: SMS, usedUnits: '4', requestedUnits: '0' }],
    });
    expect(commit.items[0]).toMatchObject({ charged_units: '4', charged_amount: '0.040000' });
    const topUp = await service.http.ok('POST', '/v1/top-ups', { topUpId: unique('camel'), customerId: CUSTOMER, amount: '0.04', currency: 'EUR' });
    expect(topUp.customer_id).toBe(CUSTOMER);
  });

  it('names the field in proto terms when a camelCase field is wrong', async () => {
    await expectRefused('http', 'Reserve', { sessionId: unique('camel'), requestNumber: 1, deviceId: DEVICE, items: [{ ratingGroup: SMS, requestedUnits: '-1' }] }, { field: 'items[0].requested_units' });
    await expectRefused('http', 'Reserve', { sessionId: unique('camel'), requestNumber: 0, deviceId: DEVICE, items: sms('1') }, { field: 'request_number' });
  });
});

describe('timestamps outside RFC 3339 are malformed', () => {
  // Date.parse accepts far more than RFC 3339: "5" is taken as 2001-05-01 in the server's local
  // time zone, and "2026-02-30T00:00:00Z" rolls over to 2026-03-02.
  it.each([
    ['a bare number', '5'],
    ['the 30th of February', '2026-02-30T00:00:00Z'],
    ['no time zone', '2026-11-23 10:00:00'],
  ])('HTTP: event_time %s → 400 naming event_time', async (_name, text) => {
    await expectRefused('http', 'Charge', { ...chargeBody(), event_time: text }, { field: 'event_time' });
  });

  // A google.protobuf.Timestamp's nanos must be 0 to 999,999,999; 2e9 nanos must not silently
  // move the event by 2 seconds.
  it('gRPC: event_time.nanos over 999,999,999 → INVALID_ARGUMENT naming event_time', async () => {
    await expectRefused('grpc', 'Charge', { ...chargeBody(), event_time: { seconds: String(START_MS / 1000), nanos: 2_000_000_000 } }, { field: 'event_time' });
  });

  it('takes RFC 3339 with an offset or a fraction over HTTP, and nanos of 999,999,999 over gRPC', async () => {
    // START_MS is 2026-11-23T10:00:00Z; both are shortly before it.
    for (const text of ['2026-11-23T11:00:00+02:00', '2026-11-23t09:30:00.123456789z']) {
      const answer = await service.http.ok('POST', '/v1/charging/charge', { ...chargeBody(), event_time: text });
      expect(answer.result, text).toBe('RESULT_CODE_SUCCESS');
    }
    const answer = await service.grpc.ok('Charge', { ...chargeBody(), event_time: { seconds: String(START_MS / 1000 - 3600), nanos: 999_999_999 } });
    expect(answer.result).toBe('RESULT_CODE_SUCCESS');
  });
});

describe('HTTP only: unknown fields', () => {
  // proto3 JSON parsers reject unknown fields by default, and so does the admin API. Were a
  // misspelt field ignored, a commit reporting `used_unit: "5"` would be taken as 0 units used,
  // the hold released, and the usage never charged.
  it('a commit with a misspelt used_units → 400 naming it, and nothing changes', async () => {
    const sessionId = unique('typo');
    await service.grpc.ok('Reserve', { session_id: sessionId, request_number: 1, device_id: DEVICE, items: sms('5') });
    await expectRefused('http', 'Commit', {
      session_id: sessionId, request_number: 2, device_id: DEVICE, items: [{ rating_group: SMS, used_unit: '5', requested_units: '0' }],
    }, { field: 'items[0].used_unit' });
  });
});

describe('HTTP only: a key that would reach an object prototype', () => {
  // `_Proto__` becomes `__proto__` once camelCase is mapped to proto names: assigning it set the
  // renamed object's prototype, so the top-up read its amount from the injected prototype.
  // Raw JSON text: in a JavaScript object literal `__proto__` would set the prototype, not a key.
  it.each([
    ['__proto__', '"__proto__": {"amount": "1000.00"}', '__proto__'],
    ['_Proto__ (renamed to __proto__)', '"_Proto__": {"amount": "1000.00"}', '_Proto__'],
    ['constructor', '"constructor": {"prototype": {"amount": "1000.00"}}', 'constructor'],
    ['prototype', '"prototype": {"amount": "1000.00"}', 'prototype'],
  ])('TopUp with a %s key → 400 naming it, and the balance does not move', async (_name, injected, field) => {
    const { amount: _amount, ...withoutAmount } = topUpBody();
    const text = `${JSON.stringify(withoutAmount).slice(0, -1)}, ${injected}}`;
    await expectRefused('http', 'TopUp', text, { field });
  });

  it('Reserve with a nested _Proto__ key → 400 naming its path', async () => {
    const text = `${JSON.stringify(reserveBody()).slice(0, -1)}, "location": {"mcc": "208", "mnc": "01", "_Proto__": {"zone": "x"}}}`;
    await expectRefused('http', 'Reserve', text, { field: 'location._Proto__' });
  });

  it('a key named like an Object method is just an unknown field', async () => {
    await expectRefused('http', 'TopUp', { ...topUpBody(), valueof: 'x' }, { field: 'valueof' });
    await expectRefused('http', 'TopUp', { ...topUpBody(), toString: 'x' }, { field: 'to_string' });
  });
});

describe('HTTP only: a field given twice', () => {
  it.each([
    ['TopUp', 'top_up_id', topUpBody, { topUpId: 'tx13b' }],
    ['TopUp', 'customer_id', topUpBody, { customerId: CUSTOMER }],
    ['Reserve', 'session_id', reserveBody, { sessionId: 'other' }],
    ['Reserve', 'items[0].rating_group', reserveBody, { items: [{ rating_group: SMS, ratingGroup: SMS, requested_units: '1' }] }],
    ['Commit', 'items[0].used_units', commitBody, { items: [{ rating_group: SMS, used_units: '3', usedUnits: '3', requested_units: '5' }] }],
  ] as const)('%s with both spellings of %s → 400 naming it, and nothing changes', async (method, field, valid, patch) => {
    await expectRefused('http', method, { ...valid(), ...patch }, { field });
  });

  // JSON.parse keeps the last of two equal keys; the body reader refuses them instead.
  it.each([
    ['top_up_id', '"top_up_id": "tx13c"'],
    ['amount', '"amount": "1000.00"'],
    ['amount, spelt with an escape', '"\\u0061mount": "1000.00"'],
  ])('TopUp with %s given twice in the JSON text → 400 naming it, and nothing changes', async (name, repeated) => {
    const text = `${JSON.stringify(topUpBody()).slice(0, -1)}, ${repeated}}`;
    await expectRefused('http', 'TopUp', text, { field: name.split(',')[0]! });
  });

  it('Reserve with items[1].requested_units given twice in the JSON text → 400 naming it', async () => {
    const text = JSON.stringify({ ...reserveBody(), items: [...sms('1'), { rating_group: DATA, requested_units: '1' }] })
      .replace('"requested_units":"1"}]', '"requested_units":"1","requested_units":"9"}]');
    await expectRefused('http', 'Reserve', text, { field: 'items[1].requested_units' });
  });
});

describe('control characters in any text field', () => {
  // PostgreSQL refuses NUL in text, so a customer's name holding one failed with 500 INTERNAL.
  // C0 controls, DEL and C1 controls are refused wherever text comes in, naming the field.
  const CONTROLS = [['NUL', '\u0000'], ['a line feed', '\n'], ['a tab', '\t'], ['ESC', '\u001b'], ['DEL', '\u007f'], ['the C1 NEL', '\u0085']];

  it.each(CONTROLS)('PUT /v1/customers/<id> with %s in the name → 400 naming name, and the customer is unchanged', async (_name, control) => {
    const before = await service.http.ok('GET', `/v1/customers/${CUSTOMER}`);
    const response = await service.http.request('PUT', `/v1/customers/${CUSTOMER}`, { name: `acme${control}corp`, currency: 'EUR' });
    expect(response.status, response.text).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    expect(await service.http.ok('GET', `/v1/customers/${CUSTOMER}`)).toEqual(before);
  });

  it('a control character in a key is refused too, naming the key', async () => {
    await expectRefused('http', 'TopUp', { ...topUpBody(), 'note\u0000': 'x' }, { field: 'note\u0000' });
  });

  it.each(CONTROLS)('TopUp with %s in top_up_id → 400 naming it, and nothing changes', async (_name, control) => {
    await expectRefused('http', 'TopUp', { ...topUpBody(), top_up_id: `t${control}` }, { field: 'top_up_id' });
  });

  it.each(CONTROLS)('gRPC: Reserve with %s in location.zone → INVALID_ARGUMENT naming it, and nothing changes', async (_name, control) => {
    await expectRefused('grpc', 'Reserve', { ...reserveBody(), location: { mcc: '208', mnc: '01', zone: `eu${control}` } }, { field: 'location.zone' });
  });

  it.each(CONTROLS)('a YAML catalog with %s in a tariff name → 400 naming it with its line, and nothing is applied', async (_name, control) => {
    const fixture = readFileSync(projectPath('test', 'fixtures', 'catalog', 'iot-plans.yaml'), 'utf8');
    const escaped = JSON.stringify(`IoT${control}Europe`);
    const text = fixture.replace('name: IoT Europe', `name: ${escaped}`);
    const before = await service.http.ok('GET', '/v1/catalog/export');
    const response = await service.http.request('POST', '/v1/catalog/apply', text, { 'content-type': 'application/yaml' });
    expect(response.status, response.text).toBe(400);
    const line = text.split('\n').findIndex((row) => row.includes('name: "IoT')) + 1;
    expect(response.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'tariffs[0].name', problems: [{ field: 'tariffs[0].name', line }] });
    expect(await service.http.ok('GET', '/v1/catalog/export')).toEqual(before);
  });
});

/** Sends raw bytes over one connection and resolves with what came back once the server closed it. */
function rawHttp(bytes: string): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(service.http.baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString();
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      resolve({ status: Number(text.split(' ')[1]), body: body === '' ? undefined : JSON.parse(body) });
    });
  });
}

describe('HTTP only: the media type, the framework\'s own refusals and query strings', () => {
  const reserve = (contentType: string) => service.http.request('POST', '/v1/charging/reserve', { ...reserveBody(), session_id: '' }, { 'content-type': contentType });

  // A UTF-16 body read as UTF-8 is garbage that might still parse; only UTF-8 is read.
  it.each(['application/json; charset=utf-16', 'application/json; charset=latin1', 'application/json; charset=utf-8; charset=utf-16'])(
    '%s → 415 UNSUPPORTED_MEDIA_TYPE naming content-type, and nothing changes', async (contentType) => {
      const before = await snapshot();
      const response = await reserve(contentType);
      expect(response.status, response.text).toBe(415);
      expect(response.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', field: 'content-type' });
      expect(await snapshot()).toEqual(before);
    });

  it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON;Charset="UTF-8"'])('%s is read (the broken session_id is named)', async (contentType) => {
    const response = await reserve(contentType);
    expect(response.status, response.text).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'session_id' });
  });

  it('headers over the size Node reads → 431 HEADERS_TOO_LARGE in the project\'s error format', async () => {
    const response = await rawHttp(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: ${'p'.repeat(20_000)}\r\n\r\n`);
    expect(response.status).toBe(431);
    expect(errorCatalogue.HEADERS_TOO_LARGE.http).toBe(431);
    expect(response.body.error).toMatchObject({ code: 'HEADERS_TOO_LARGE', field: 'headers' });
  });

  it('a request Node cannot parse → 400 INVALID_ARGUMENT in the project\'s error format', async () => {
    const response = await rawHttp('GET /healthz HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n');
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'request' });
  });

  it.each([
    ['limit[]=1&limit[]=2', 'limit[]'],
    ['limit=1&limit=2', 'limit'],
    ['after[x]=a', 'after[x]'],
    ['__proto__=1', '__proto__'],
    ['after=a%00b', 'after'],
  ])('GET /v1/customers?%s → 400 naming %s', async (query, field) => {
    const response = await service.http.request('GET', `/v1/customers?${query}`);
    expect(response.status, response.text).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', field });
  });

  it('TopUp with a repeated query parameter → 400 naming it, and nothing changes', async () => {
    const before = await snapshot();
    const response = await service.http.request('POST', '/v1/top-ups?amount=1&amount=2', topUpBody());
    expect(response.status, response.text).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'amount' });
    expect(await snapshot()).toEqual(before);
  });
});

describe('gRPC only: the wire format itself', () => {
  // Bytes as a gateway's encoder might get them wrong, sent through a client whose serializer
  // passes them through untouched. protobufjs's decoder neither checks a field's wire type nor
  // stops at a length that runs past the message, so these were read as guesses.
  let raw: grpc.Client;
  beforeAll(() => {
    raw = new grpc.Client(`127.0.0.1:${service.app.grpcPort}`, grpc.credentials.createInsecure());
  });
  afterAll(() => raw?.close());

  const identity = (bytes: Buffer) => bytes;
  function rawCall(method: string, bytes: Buffer): Promise<{ code: number; errorCode?: string; field?: string; details?: string }> {
    return new Promise((resolve) => {
      raw.makeUnaryRequest(`/iobilling.charging.v1.ChargingService/${method}`, identity, identity, bytes, (error) => {
        resolve(error === null
          ? { code: GrpcStatus.OK }
          : { code: error.code, details: error.details, errorCode: error.metadata?.get('io-error-code')[0]?.toString(), field: error.metadata?.get('io-error-field')[0]?.toString() });
      });
    });
  }

  const key = (field: number, wireType: number) => [(field << 3) | wireType];
  const text = (field: number, value: string) => [...key(field, 2), Buffer.byteLength(value), ...Buffer.from(value)];
  const varint = (field: number, value: number) => [...key(field, 0), value];
  const message = (field: number, parts: number[][]) => { const inner = parts.flat(); return [...key(field, 2), inner.length, ...inner]; };
  const bytes = (...parts: number[][]) => Buffer.from(parts.flat());
  const topUpId = () => text(1, unique('raw-top-up'));

  async function expectWireRefused(method: string, body: Buffer, field: string) {
    const before = await snapshot();
    const result = await rawCall(method, body);
    expect(result, JSON.stringify(result)).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, errorCode: 'INVALID_ARGUMENT', field });
    expect(await snapshot()).toEqual(before);
  }

  it('takes a well-formed TopUp sent as raw bytes, an unknown field skipped', async () => {
    const result = await rawCall('TopUp', bytes(topUpId(), text(2, CUSTOMER), text(3, '0.01'), text(4, 'EUR'), text(15, 'from a newer schema')));
    expect(result).toEqual({ code: GrpcStatus.OK });
  });

  it('takes rating_groups packed and unpacked, as proto3 parsers must', async () => {
    for (const encoding of [[...key(4, 2), 1, SMS], varint(4, SMS)]) {
      const session = unique('raw-release');
      await service.grpc.ok('Reserve', { session_id: session, request_number: 1, device_id: DEVICE, items: sms('1') });
      const result = await rawCall('Release', bytes(text(1, session), varint(2, 2), text(3, DEVICE), encoding));
      expect(result).toEqual({ code: GrpcStatus.OK });
    }
  });

  it.each([
    // The case: `amount` declares 9 bytes and the message ends after 8.
    ['amount declaring 9 bytes with 8 present', () => bytes(topUpId(), text(2, CUSTOMER), text(4, 'EUR'), [...key(3, 2), 9, ...Buffer.from('1.000000')]), 'amount'],
    ['amount sent as a varint', () => bytes(topUpId(), text(2, CUSTOMER), varint(3, 5), text(4, 'EUR')), 'amount'],
    ['amount with wire type 7, which does not exist', () => bytes(topUpId(), text(2, CUSTOMER), key(3, 7), text(4, 'EUR')), 'amount'],
    ['amount as a group (wire type 3)', () => bytes(topUpId(), text(2, CUSTOMER), key(3, 3), key(3, 4), text(4, 'EUR')), 'amount'],
    ['amount not valid UTF-8', () => bytes(topUpId(), text(2, CUSTOMER), [...key(3, 2), 2, 0xc3, 0x28], text(4, 'EUR')), 'amount'],
    ['currency cut off after its key', () => bytes(topUpId(), text(2, CUSTOMER), text(3, '1.00'), key(4, 2)), 'currency'],
    ['a key cut off mid-varint', () => bytes(topUpId(), text(2, CUSTOMER), text(3, '1.00'), text(4, 'EUR'), [0x80]), 'request'],
    ['field number 0', () => bytes(topUpId(), text(2, CUSTOMER), text(3, '1.00'), text(4, 'EUR'), varint(0, 1)), 'request'],
    ['an unknown field running past the end', () => bytes(topUpId(), text(2, CUSTOMER), text(3, '1.00'), text(4, 'EUR'), [...key(9, 2), 20, 1, 2]), 'request'],
  ])('TopUp with %s → INVALID_ARGUMENT naming it, and nothing changes', async (_name, body, field) => {
    await expectWireRefused('TopUp', body(), field);
  });

  const reserveHeader = () => [text(1, unique('raw-reserve')), varint(2, 1), text(3, DEVICE)];
  it.each([
    ['request_number sent as a string', () => bytes(text(1, unique('raw-reserve')), text(2, '1'), text(3, DEVICE), message(6, [varint(1, SMS), varint(2, 5)])), 'request_number'],
    ['request_number over 32 bits on the wire (2^32 + 1)', () => bytes(text(1, unique('raw-reserve')), key(2, 0), [0x81, 0x80, 0x80, 0x80, 0x10], text(3, DEVICE), message(6, [varint(1, SMS), varint(2, 5)])), 'request_number'],
    ['location sent as a varint', () => bytes(...reserveHeader(), varint(5, 1), message(6, [varint(1, SMS), varint(2, 5)])), 'location'],
    ['items[0].requested_units cut off mid-varint', () => bytes(...reserveHeader(), message(6, [varint(1, SMS), key(2, 0), [0x85]])), 'items[0].requested_units'],
    ['items[1].rating_group as a string', () => bytes(...reserveHeader(), message(6, [varint(1, SMS), varint(2, 5)]), message(6, [text(1, '1'), varint(2, 5)])), 'items[1].rating_group'],
    ['location.zone running past its message', () => bytes(...reserveHeader(), [...key(5, 2), 4, ...key(3, 2), 9, 0x65, 0x75], message(6, [varint(1, SMS), varint(2, 5)])), 'location.zone'],
    ['event_time.nanos as a fixed64', () => bytes(...reserveHeader(), message(4, [varint(1, 1), [...key(2, 1), 0, 0, 0, 0, 0, 0, 0, 0]]), message(6, [varint(1, SMS), varint(2, 5)])), 'event_time.nanos'],
  ])('Reserve with %s → INVALID_ARGUMENT naming it, and nothing changes', async (_name, body, field) => {
    await expectWireRefused('Reserve', body(), field);
  });
});

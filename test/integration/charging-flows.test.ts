// Gateway flows through the real gRPC server: allowances before money (vectors C3 and I2),
// partial grants and the final-unit indication, overshoot, independent results per rating
// group, suspended and unknown devices, spending caps, connect fees and releases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectConserved } from '../support/conservation.js';
import { provisionFleet, ratingGroups, startTestService, type TestService } from '../support/service.js';

let service: TestService;
const DATA = 1;
const SMS = 2;
const VOICE = 3;
const UNPRICED = 4;
const DATA_PER_MB = { rating_group: DATA, price: '1.00', per_units: 1_000_000, increment_units: 1000 };
const SMS_CENT = { rating_group: SMS, price: '0.01', per_units: 1, increment_units: 1 };

beforeAll(async () => {
  service = await startTestService('charging-flows');
  await ratingGroups(service, [[DATA, 'bytes'], [SMS, 'events'], [VOICE, 'seconds'], [UNPRICED, 'events']]);
  await service.app.catalog.loadRatingGroups();
});
afterAll(() => service?.close());

let sessionCount = 0;
const nextSession = () => `session-${++sessionCount}`;

function reserve(sessionId: string, device: string, items: [number, number][], requestNumber = 1) {
  return service.grpc.ok('Reserve', {
    session_id: sessionId, request_number: requestNumber, device_id: device,
    items: items.map(([rating_group, units]) => ({ rating_group, requested_units: String(units) })),
  });
}

function commit(sessionId: string, device: string, requestNumber: number, items: [number, number, number][], final = false) {
  return service.grpc.ok('Commit', {
    session_id: sessionId, request_number: requestNumber, device_id: device, final,
    items: items.map(([rating_group, used, requested]) => ({ rating_group, used_units: String(used), requested_units: String(requested) })),
  });
}

async function wallet(customerId: string) {
  return (await service.grpc.ok('GetBalance', { customer_id: customerId })).wallet;
}

/** A bucket as the balance lists it: a device's own buckets are listed with that device's balance. */
async function allowance(customerId: string, id: string, deviceId?: string) {
  const balance = await service.grpc.ok('GetBalance', deviceId === undefined ? { customer_id: customerId } : { device_id: deviceId });
  const bucket = balance.allowances.find((candidate: { allowance_id: string }) => candidate.allowance_id === id);
  const available = BigInt(bucket.units_total) - BigInt(bucket.units_used) - BigInt(bucket.units_held);
  return { used: bucket.units_used, held: bucket.units_held, available: available.toString() };
}

async function addAllowance(customerId: string, body: object) {
  await service.http.ok('POST', `/v1/customers/${customerId}/allowances`, {
    valid_from: '2026-01-01T00:00:00Z', valid_until: '2027-01-01T00:00:00Z', ...body,
  });
}

describe('vector C3: reserve, update, terminate against a data allowance', () => {
  it('moves the allowance exactly as the vector says', async () => {
    await provisionFleet(service, { customerId: 'c3', devices: ['c3-dev'], tariff: { id: 'c3-tariff', rates: [DATA_PER_MB] } });
    await addAllowance('c3', { id: 'c3-data', device_id: 'c3-dev', rating_group: DATA, units_total: 102400 });
    const session = nextSession();

    const initial = await reserve(session, 'c3-dev', [[DATA, 5120]]);
    expect(initial.items[0]).toMatchObject({ result: 'RESULT_CODE_SUCCESS', granted_units: '5120', allowance_units: '5120', reserved_amount: '0.000000' });
    expect(await allowance('c3', 'c3-data', 'c3-dev')).toEqual({ available: '97280', held: '5120', used: '0' });

    const update = await commit(session, 'c3-dev', 2, [[DATA, 4096, 5120]]);
    expect(update.items[0]).toMatchObject({ charged_units: '4096', charged_amount: '0.000000', granted_units: '5120' });
    expect(await allowance('c3', 'c3-data', 'c3-dev')).toEqual({ available: '93184', held: '5120', used: '4096' });

    await commit(session, 'c3-dev', 3, [[DATA, 0, 0]], true);
    expect(await allowance('c3', 'c3-data', 'c3-dev')).toEqual({ available: '98304', held: '0', used: '4096' });
    expect((await wallet('c3')).balance).toBe('0.000000');
    await expectConserved(service, 'c3');
  });
});

describe('vector I2: pooled allowance first, then the wallet', () => {
  it('holds allowance before money and releases every hold at the end', async () => {
    await provisionFleet(service, { customerId: 'i2', devices: ['i2-a', 'i2-b', 'i2-c'], balance: '5.00', tariff: { id: 'i2-tariff', rates: [DATA_PER_MB] } });
    await addAllowance('i2', { id: 'i2-pool', rating_group: DATA, units_total: 10_000_000 });
    const [sessionA, sessionB] = [nextSession(), nextSession()];

    const a = await reserve(sessionA, 'i2-a', [[DATA, 6_000_000]]);
    expect(a.items[0]).toMatchObject({ granted_units: '6000000', allowance_units: '6000000', reserved_amount: '0.000000' });
    expect(await allowance('i2', 'i2-pool')).toMatchObject({ held: '6000000', used: '0' });

    const b = await reserve(sessionB, 'i2-b', [[DATA, 6_000_000]]);
    expect(b.items[0]).toMatchObject({ granted_units: '6000000', allowance_units: '4000000', reserved_amount: '2.000000' });
    expect(await allowance('i2', 'i2-pool')).toMatchObject({ held: '10000000', used: '0' });
    expect(await wallet('i2')).toMatchObject({ balance: '5.000000', held: '2.000000' });

    await commit(sessionA, 'i2-a', 2, [[DATA, 6_000_000, 0]], true);
    expect(await allowance('i2', 'i2-pool')).toMatchObject({ held: '4000000', used: '6000000' });
    expect(await wallet('i2')).toMatchObject({ balance: '5.000000', held: '2.000000' });

    const end = await commit(sessionB, 'i2-b', 2, [[DATA, 1_000_000, 0]], true);
    expect(end.items[0]).toMatchObject({ charged_units: '1000000', charged_amount: '0.000000' });
    expect(await allowance('i2', 'i2-pool')).toMatchObject({ held: '0', used: '7000000' });
    expect(await wallet('i2')).toMatchObject({ balance: '5.000000', held: '0.000000' });
    await expectConserved(service, 'i2');
  });
});

describe('the order allowances are used in', () => {
  it('draws the highest priority first, then the soonest to expire, skipping what is not valid now', async () => {
    await provisionFleet(service, { customerId: 'order', devices: ['order-dev', 'order-other'], tariff: { id: 'order-tariff', rates: [DATA_PER_MB] } });
    await addAllowance('order', { id: 'low-soon', rating_group: DATA, units_total: 1000, priority: 1, valid_until: '2026-12-01T00:00:00Z' });
    await addAllowance('order', { id: 'high-late', rating_group: DATA, units_total: 1000, priority: 9, valid_until: '2026-12-31T00:00:00Z' });
    await addAllowance('order', { id: 'high-soon', rating_group: DATA, units_total: 1000, priority: 9, valid_until: '2026-12-15T00:00:00Z' });
    await addAllowance('order', { id: 'future', rating_group: DATA, units_total: 1000, priority: 99, valid_from: '2026-12-01T00:00:00Z' });
    await addAllowance('order', { id: 'other-device', device_id: 'order-other', rating_group: DATA, units_total: 1000, priority: 99 });

    const grant = await reserve(nextSession(), 'order-dev', [[DATA, 2500]]);
    expect(grant.items[0]).toMatchObject({ granted_units: '2500', allowance_units: '2500' });
    expect(await allowance('order', 'high-soon')).toMatchObject({ held: '1000' });
    expect(await allowance('order', 'high-late')).toMatchObject({ held: '1000' });
    expect(await allowance('order', 'low-soon')).toMatchObject({ held: '500' });
    expect(await allowance('order', 'future')).toMatchObject({ held: '0' });
    expect(await allowance('order', 'other-device', 'order-other')).toMatchObject({ held: '0' });
    expect((await reserve(nextSession(), 'order-dev', [[DATA, 1000]])).items[0]).toMatchObject({ granted_units: '500', result: 'RESULT_CODE_SUCCESS' });
  });
  it('is not hidden by bundles whose validity has ended, however many there are', async () => {
    await provisionFleet(service, { customerId: 'monthly', devices: ['monthly-dev'], tariff: { id: 'monthly-tariff', rates: [DATA_PER_MB] } });
    const endedMonths = Array.from({ length: 40 }, (_, index) => index);
    for (const month of endedMonths) {
      const from = new Date(Date.UTC(2023, month, 1)).toISOString();
      const until = new Date(Date.UTC(2023, month + 1, 1)).toISOString();
      await addAllowance('monthly', { id: `month-${month}`, rating_group: DATA, units_total: 1000, valid_from: from, valid_until: until });
    }
    await addAllowance('monthly', { id: 'this-month', rating_group: DATA, units_total: 1000, valid_from: '2026-11-01T00:00:00Z', valid_until: '2026-12-01T00:00:00Z' });
    const indexKey = `${service.app.keys.customerPrefix('monthly')}ai:monthly:${DATA}`;

    // A call reads at most 4 pages of ALLOWANCES_PER_RATING_GROUP_MAX (16) index entries, and
    // drops the ended ones it saw.
    const grant = await reserve(nextSession(), 'monthly-dev', [[DATA, 500]]);
    expect(grant.items[0]).toMatchObject({ granted_units: '500', allowance_units: '500' });
    expect(await allowance('monthly', 'this-month')).toMatchObject({ held: '500' });
    expect(await service.redis.zrange(indexKey, 0, -1)).toEqual(['this-month']);
  });
  it("gives each device of a fleet its own bundle, however many devices have one", async () => {
    const devices = Array.from({ length: 40 }, (_, index) => `bundle-${index}`);
    await provisionFleet(service, { customerId: 'bundles', devices, tariff: { id: 'bundles-tariff', rates: [DATA_PER_MB] } });
    for (const device of devices) await addAllowance('bundles', { id: `${device}-data`, device_id: device, rating_group: DATA, units_total: 1000 });
    for (const device of [devices[0]!, devices[39]!]) {
      expect((await reserve(nextSession(), device, [[DATA, 600]])).items[0], device).toMatchObject({ allowance_units: '600' });
      expect(await allowance('bundles', `${device}-data`, device)).toMatchObject({ held: '600' });
    }
    const own = (await service.grpc.ok('GetBalance', { device_id: 'bundle-7' })).allowances;
    expect(own.map((bucket: { allowance_id: string }) => bucket.allowance_id), "a device's balance lists its own bundle only").toEqual(['bundle-7-data']);
  });
});

describe('partial grants and the final-unit indication', () => {
  it('grants what the wallet allows, marks it final, then refuses with nothing held', async () => {
    await provisionFleet(service, { customerId: 'partial', devices: ['partial-dev'], balance: '1.00', tariff: { id: 'cents', rates: [SMS_CENT] } });
    const first = await reserve(nextSession(), 'partial-dev', [[SMS, 250]]);
    expect(first.items[0]).toMatchObject({
      result: 'RESULT_CODE_SUCCESS', granted_units: '100', reserved_amount: '1.000000',
      final_unit_action: 'FINAL_UNIT_ACTION_TERMINATE', validity_seconds: 600, quota_threshold_units: '20',
    });
    const second = await reserve(nextSession(), 'partial-dev', [[SMS, 10]]);
    expect(second.result).toBe('RESULT_CODE_SUCCESS');
    expect(second.items[0]).toMatchObject({ result: 'RESULT_CODE_CREDIT_LIMIT_REACHED', granted_units: '0', reserved_amount: '0.000000' });
    expect(await wallet('partial')).toMatchObject({ balance: '1.000000', held: '1.000000', available: '0.000000' });
    await expectConserved(service, 'partial');
  });

  it('marks a full grant final when it leaves nothing, with the tariff\'s action', async () => {
    await provisionFleet(service, {
      customerId: 'exact', devices: ['exact-dev'], balance: '0.50',
      tariff: { id: 'cents-redirect', rates: [SMS_CENT], final_unit_action: 'redirect' },
    });
    const grant = await reserve(nextSession(), 'exact-dev', [[SMS, 50]]);
    expect(grant.items[0]).toMatchObject({ granted_units: '50', final_unit_action: 'FINAL_UNIT_ACTION_REDIRECT' });
  });

  it('does not mark a grant final while money remains', async () => {
    await provisionFleet(service, { customerId: 'plenty', devices: ['plenty-dev'], balance: '10.00', tariff: { id: 'cents-plenty', rates: [SMS_CENT] } });
    const grant = await reserve(nextSession(), 'plenty-dev', [[SMS, 50]]);
    expect(grant.items[0]).toMatchObject({ granted_units: '50', final_unit_action: 'FINAL_UNIT_ACTION_UNSPECIFIED' });
  });

  it('rounds a partial grant down to whole increments', async () => {
    await provisionFleet(service, { customerId: 'blocks', devices: ['blocks-dev'], balance: '0.0025', tariff: { id: 'per-kb', rates: [DATA_PER_MB] } });
    const grant = await reserve(nextSession(), 'blocks-dev', [[DATA, 1_000_000]]);
    expect(grant.items[0]).toMatchObject({ granted_units: '2000', reserved_amount: '0.002000' });
  });
});

describe('overshoot', () => {
  it('charges what was used beyond the grant, records it, and grants nothing until topped up', async () => {
    await provisionFleet(service, { customerId: 'over', devices: ['over-dev'], balance: '1.00', tariff: { id: 'cents-over', rates: [SMS_CENT] } });
    const session = nextSession();
    await reserve(session, 'over-dev', [[SMS, 100]]);
    const report = await commit(session, 'over-dev', 2, [[SMS, 150, 10]]);
    expect(report.items[0]).toMatchObject({ charged_units: '150', charged_amount: '1.500000', result: 'RESULT_CODE_CREDIT_LIMIT_REACHED', granted_units: '0' });
    expect(await wallet('over')).toMatchObject({ balance: '-0.500000', held: '0.000000' });
    const ledger = await expectConserved(service, 'over');
    expect(ledger.events.filter((event) => event.type === 'overshoot').map((event) => event.data.os)).toEqual(['500000']);

    expect((await reserve(nextSession(), 'over-dev', [[SMS, 1]])).items[0].result).toBe('RESULT_CODE_CREDIT_LIMIT_REACHED');
    await service.grpc.ok('TopUp', { top_up_id: 'over-refill', customer_id: 'over', amount: '0.60', currency: 'EUR' });
    expect((await reserve(nextSession(), 'over-dev', [[SMS, 5]])).items[0]).toMatchObject({ granted_units: '5', final_unit_action: 'FINAL_UNIT_ACTION_UNSPECIFIED' });
  });
  it('refuses usage that would cost more than an amount can hold, naming it, and changes nothing', async () => {
    await provisionFleet(service, { customerId: 'huge', devices: ['huge-dev'], balance: '1.00', tariff: { id: 'cents-huge', rates: [SMS_CENT] } });
    const session = nextSession();
    await reserve(session, 'huge-dev', [[SMS, 10]]);
    const before = await wallet('huge');
    const tooCostly = await service.grpc.call('Commit', {
      session_id: session, request_number: 2, device_id: 'huge-dev', items: [{ rating_group: SMS, used_units: String(Number.MAX_SAFE_INTEGER) }],
    });
    expect(tooCostly.ok ? undefined : tooCostly.error).toMatchObject({ errorCode: 'INVALID_ARGUMENT', field: 'items[0].used_units' });
    expect(await wallet('huge')).toEqual(before);
  });

  it('refuses overshoot that would take the balance below the exact range, and changes nothing', async () => {
    await provisionFleet(service, { customerId: 'deep', devices: ['deep-dev'], balance: '1.00', tariff: { id: 'cents-deep', rates: [SMS_CENT] } });
    const session = nextSession();
    await reserve(session, 'deep-dev', [[SMS, 10]]);
    const nineBillion = [[SMS, 900_000_000_000, 0]] as [number, number, number][];
    await commit(session, 'deep-dev', 2, nineBillion);
    expect((await wallet('deep')).balance).toBe('-8999999999.000000');
    const tooDeep = await service.grpc.call('Commit', {
      session_id: session, request_number: 3, device_id: 'deep-dev', items: [{ rating_group: SMS, used_units: '900000000000' }],
    });
    expect(tooDeep.ok ? undefined : tooDeep.error).toMatchObject({ errorCode: 'BALANCE_LIMIT', field: 'items' });
    expect((await wallet('deep')).balance).toBe('-8999999999.000000');
    await expectConserved(service, 'deep');
  });
});

describe('each rating group gets its own result', () => {
  it('serves one group from an allowance while another is out of money or unpriced', async () => {
    await provisionFleet(service, { customerId: 'mixed', devices: ['mixed-dev'], tariff: { id: 'mixed-tariff', rates: [DATA_PER_MB, SMS_CENT] } });
    await addAllowance('mixed', { id: 'mixed-data', rating_group: DATA, units_total: 50_000 });
    const answer = await reserve(nextSession(), 'mixed-dev', [[DATA, 10_000], [SMS, 5], [UNPRICED, 1]]);
    expect(answer.result).toBe('RESULT_CODE_SUCCESS');
    expect(answer.items.map((item: { result: string }) => item.result)).toEqual([
      'RESULT_CODE_SUCCESS', 'RESULT_CODE_CREDIT_LIMIT_REACHED', 'RESULT_CODE_RATING_FAILED',
    ]);
    expect(answer.items[0]).toMatchObject({ granted_units: '10000', allowance_units: '10000' });
  });

  it('answers rating failed for a one-shot event no tariff prices, and charges nothing (vector C2)', async () => {
    await provisionFleet(service, { customerId: 'nosms', devices: ['nosms-dev'], balance: '1.00', tariff: { id: 'data-only', rates: [DATA_PER_MB] } });
    const answer = await service.grpc.ok('Charge', { event_id: 'nosms-1', device_id: 'nosms-dev', rating_group: SMS, units: '1' });
    expect(answer).toMatchObject({ result: 'RESULT_CODE_RATING_FAILED', charged_amount: '0.000000' });
    expect((await wallet('nosms')).balance).toBe('1.000000');
  });
});

describe('devices', () => {
  it('answers user unknown for a device nobody provisioned', async () => {
    const answer = await reserve(nextSession(), 'ghost', [[SMS, 1]]);
    expect(answer.result).toBe('RESULT_CODE_USER_UNKNOWN');
    expect(answer.items[0].result).toBe('RESULT_CODE_USER_UNKNOWN');
  });

  it('denies service to a suspended device on its next request, and serves it again once resumed', async () => {
    await provisionFleet(service, { customerId: 'susp', devices: ['susp-dev'], balance: '5.00', tariff: { id: 'cents-susp', rates: [SMS_CENT] } });
    const session = nextSession();
    await reserve(session, 'susp-dev', [[SMS, 10]]);
    await service.http.ok('POST', '/v1/devices/susp-dev/suspend');

    const report = await commit(session, 'susp-dev', 2, [[SMS, 4, 10]]);
    expect(report.result).toBe('RESULT_CODE_SERVICE_DENIED');
    expect(report.items[0]).toMatchObject({ charged_units: '4', charged_amount: '0.040000', granted_units: '0', result: 'RESULT_CODE_SERVICE_DENIED' });
    expect((await reserve(nextSession(), 'susp-dev', [[SMS, 1]])).result).toBe('RESULT_CODE_SERVICE_DENIED');
    expect((await service.grpc.ok('Charge', { event_id: 'susp-event', device_id: 'susp-dev', rating_group: SMS, units: '1' })).result).toBe('RESULT_CODE_SERVICE_DENIED');

    await service.http.ok('POST', '/v1/devices/susp-dev/resume');
    expect((await reserve(nextSession(), 'susp-dev', [[SMS, 1]])).items[0].granted_units).toBe('1');
    expect(await wallet('susp')).toMatchObject({ balance: '4.960000', held: '0.010000' });
    await expectConserved(service, 'susp');
  });

  it('stops a device at its daily cap whatever the pool holds, and not its neighbour', async () => {
    await provisionFleet(service, { customerId: 'capped', devices: ['capped-a', 'capped-b'], balance: '10.00', tariff: { id: 'cents-cap', rates: [SMS_CENT] } });
    await service.http.ok('PUT', '/v1/devices/capped-a', { customer_id: 'capped', daily_cap: '0.50' });
    const grant = await reserve(nextSession(), 'capped-a', [[SMS, 100]]);
    expect(grant.items[0]).toMatchObject({ granted_units: '50', final_unit_action: 'FINAL_UNIT_ACTION_TERMINATE' });
    expect((await reserve(nextSession(), 'capped-a', [[SMS, 1]])).items[0].result).toBe('RESULT_CODE_CREDIT_LIMIT_REACHED');
    expect((await service.grpc.ok('Charge', { event_id: 'capped-a-1', device_id: 'capped-a', rating_group: SMS, units: '1' })).result).toBe('RESULT_CODE_CREDIT_LIMIT_REACHED');
    expect((await reserve(nextSession(), 'capped-b', [[SMS, 100]])).items[0].granted_units).toBe('100');
    const yesterday = { seconds: String(Math.floor(service.clock.nowMs() / 1000) - 86_400), nanos: 0 };
    const backdated = await service.grpc.ok('Reserve', {
      session_id: nextSession(), request_number: 1, device_id: 'capped-a', event_time: yesterday, items: [{ rating_group: SMS, requested_units: '1' }],
    });
    expect(backdated.items[0].result, 'an event_time in the past does not reopen a spent day').toBe('RESULT_CODE_CREDIT_LIMIT_REACHED');

    service.clock.advance(86_400_000);
    expect((await reserve(nextSession(), 'capped-a', [[SMS, 10]])).items[0].granted_units).toBe('10');
  });
});

describe('connect fee and releases', () => {
  it('charges the connect fee once per session, with its first paid usage (vector C1 tariff)', async () => {
    await provisionFleet(service, {
      customerId: 'voice', devices: ['voice-dev'], balance: '5.00',
      tariff: { id: 'c1', rates: [{ rating_group: VOICE, price: '0.01', per_units: 1, increment_units: 1, connect_fee: '0.10' }], rounding: { mode: 'up', decimals: 4 } },
    });
    const session = nextSession();
    expect((await reserve(session, 'voice-dev', [[VOICE, 60]])).items[0].reserved_amount).toBe('0.700000');
    const update = await commit(session, 'voice-dev', 2, [[VOICE, 45, 60]]);
    expect(update.items[0]).toMatchObject({ charged_amount: '0.550000', reserved_amount: '0.600000' });
    const end = await commit(session, 'voice-dev', 3, [[VOICE, 10, 0]], true);
    expect(end.items[0]).toMatchObject({ charged_amount: '0.100000' });
    expect(await wallet('voice')).toMatchObject({ balance: '4.350000', held: '0.000000' });
    await expectConserved(service, 'voice');
  });

  it('releases one rating group or all of them, charging nothing', async () => {
    await provisionFleet(service, { customerId: 'rel', devices: ['rel-dev'], balance: '5.00', tariff: { id: 'rel-tariff', rates: [DATA_PER_MB, SMS_CENT] } });
    const session = nextSession();
    await reserve(session, 'rel-dev', [[DATA, 1_000_000], [SMS, 10]]);
    expect(await wallet('rel')).toMatchObject({ held: '1.100000' });
    const one = await service.grpc.ok('Release', { session_id: session, request_number: 2, device_id: 'rel-dev', rating_groups: [SMS] });
    expect(one.items).toEqual([expect.objectContaining({ rating_group: SMS, released_units: '10', released_amount: '0.100000' })]);
    expect(await wallet('rel')).toMatchObject({ held: '1.000000', balance: '5.000000' });
    const all = await service.grpc.ok('Release', { session_id: session, request_number: 3, device_id: 'rel-dev' });
    expect(all.items).toEqual([expect.objectContaining({ rating_group: DATA, released_units: '1000000', released_amount: '1.000000' })]);
    expect(await wallet('rel')).toMatchObject({ held: '0.000000', balance: '5.000000' });
    await expectConserved(service, 'rel');
  });

  it('releases every hold of the session on a final commit, even groups it did not report', async () => {
    await provisionFleet(service, { customerId: 'fin', devices: ['fin-dev'], balance: '5.00', tariff: { id: 'fin-tariff', rates: [DATA_PER_MB, SMS_CENT] } });
    const session = nextSession();
    await reserve(session, 'fin-dev', [[DATA, 1_000_000], [SMS, 10]]);
    await commit(session, 'fin-dev', 2, [[DATA, 500_000, 0]], true);
    expect(await wallet('fin')).toMatchObject({ balance: '4.500000', held: '0.000000' });
    await expectConserved(service, 'fin');
  });
});

describe('a session that ended', () => {
  const endings = [
    ['a final commit', (session: string, device: string) => commit(session, device, 3, [[DATA, 500_000, 0]], true), '4.500000'],
    ['a release of everything', (session: string, device: string) => service.grpc.ok('Release', { session_id: session, request_number: 3, device_id: device }), '5.000000'],
  ] as const;

  it.each(endings)('charges a late report that arrives after %s, and grants and holds nothing on it', async (_ending, end, balanceAfterEnd) => {
    const customer = `ended-${++sessionCount}`;
    const device = `${customer}-dev`;
    await provisionFleet(service, { customerId: customer, devices: [device], balance: '5.00', tariff: { id: `${customer}-tariff`, rates: [DATA_PER_MB] } });
    const session = nextSession();
    await reserve(session, device, [[DATA, 1_000_000]]);
    await end(session, device);
    expect(await wallet(customer)).toMatchObject({ balance: balanceAfterEnd, held: '0.000000' });

    const late = await commit(session, device, 2, [[DATA, 200_000, 5_000_000]]);
    expect(late.items[0]).toMatchObject({ result: 'RESULT_CODE_SERVICE_DENIED', charged_units: '200000', charged_amount: '0.200000', granted_units: '0', reserved_amount: '0.000000' });
    const reopen = await reserve(session, device, [[DATA, 1_000_000]], 4);
    expect(reopen.items[0], 'a later request grants nothing either').toMatchObject({ result: 'RESULT_CODE_SERVICE_DENIED', granted_units: '0' });
    expect(await wallet(customer)).toMatchObject({ held: '0.000000' });
    await expectConserved(service, customer);
  });
});

describe('pricing many items at once', () => {
  it('serves 12 rating groups that each need their own price, with no contention at all', async () => {
    const groups = Array.from({ length: 12 }, (_, index) => 101 + index);
    await ratingGroups(service, groups.map((group) => [group, 'events']));
    await service.app.catalog.loadRatingGroups();
    const rates = groups.map((group) => ({ rating_group: group, price: '0.01', per_units: 1, increment_units: 1 }));
    await provisionFleet(service, { customerId: 'many', devices: ['many-dev'], balance: '10.00', tariff: { id: 'many-tariff', rates } });
    for (const group of groups) await addAllowance('many', { id: `many-${group}`, rating_group: group, units_total: 5 });
    // Each item is half allowance, half money: the script asks for the money part's price, item by item.
    const grant = await reserve(nextSession(), 'many-dev', groups.map((group) => [group, 10]));
    expect(grant.items.map((item: { granted_units: string; allowance_units: string; reserved_amount: string }) => [item.granted_units, item.allowance_units, item.reserved_amount]))
      .toEqual(groups.map(() => ['10', '5', '0.050000']));
    await expectConserved(service, 'many');
  });
});

describe('a rating group that loses its price mid-session', () => {
  it('uses the allowance it held, keeps the rest unpriced on the event, and holds nothing', async () => {
    await provisionFleet(service, { customerId: 'dropped', devices: ['dropped-dev'], balance: '5.00', tariff: { id: 'dropped-tariff', rates: [DATA_PER_MB, SMS_CENT] } });
    await addAllowance('dropped', { id: 'dropped-data', rating_group: DATA, units_total: 3000 });
    const session = nextSession();
    expect((await reserve(session, 'dropped-dev', [[DATA, 5000]])).items[0]).toMatchObject({ allowance_units: '3000', reserved_amount: '0.002000' });
    await service.http.ok('PUT', '/v1/tariffs/dropped-tariff', { name: 'dropped-tariff', currency: 'EUR', rates: [SMS_CENT] });

    const end = await commit(session, 'dropped-dev', 2, [[DATA, 4000, 0]], true);
    expect(end.items[0]).toMatchObject({ result: 'RESULT_CODE_RATING_FAILED', charged_units: '3000', charged_amount: '0.000000' });
    expect(await allowance('dropped', 'dropped-data')).toEqual({ used: '3000', held: '0', available: '0' });
    expect(await wallet('dropped')).toMatchObject({ balance: '5.000000', held: '0.000000' });
    const ledger = await expectConserved(service, 'dropped');
    const item = ledger.events.filter((event) => event.type === 'commit').at(-1)!.data.items[0];
    expect(item).toMatchObject({ used: '4000', au: '3000', unrated: '1000', ru: '5000', rm: '2000', rb: [['dropped-data', '3000']] });
  });
});

// Charging with a plan's tariff through the online path: intervals, connect fee and session
// maximum; graduated tiers over the pool's month and volume tiers per device; zones when the
// device roams mid-session; a price change that splits a session; a new plan version applied
// while traffic runs; and concurrent sessions of one pool across a tier boundary, where every
// charge must equal what the engine rates for the usage at its place in the period.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileTariffDocument } from '../../src/rating/compiled-tariff.js';
import { rateUsage, type Usage } from '../../src/rating/rate-usage.js';
import { parseTariffDocument } from '../../src/rating/tariff-document.js';
import type { TariffDocument } from '../../src/rating/tariff-format.js';
import { expectConserved, readLedger } from '../support/conservation.js';
import { START_MS, startTestService, type TestService } from '../support/service.js';

const DATA = 1;
const SMS = 2;
const VOICE = 3;
const API = 4;
const HOME = { mcc: '262', mnc: '01' };
const ROAMING = { mcc: '208', mnc: '10' };
const HOUR_MS = 3_600_000;
const MB = 1_000_000;

/** Data in 1 kB increments per MB: 1.00 for the pool's first 10 MB of the month, then 0.50. */
function europe(name: string, scale: number): TariffDocument {
  const price = (amount: number) => (amount * scale).toFixed(2);
  return {
    name, currency: 'EUR', time_zone: 'UTC', rounding: { mode: 'half-even', decimals: 6 }, final_unit_action: 'terminate',
    bands: [{ name: 'night', weight: 10, from: '22:00', until: '06:00' }],
    zones: [{ name: 'home', networks: ['262-01'] }, { name: 'roaming', networks: ['208'] }],
    rates: [
      {
        rating_group: DATA, zones: ['home'], connect_fee: '0', tier_scope: 'customer',
        intervals: [{
          from_units: 0, increment_units: 1000, per_units: MB,
          tiers: { mode: 'graduated', steps: [{ up_to_units: 10 * MB, price: price(1), band_prices: { night: price(0.5) } }, { price: price(0.5), band_prices: { night: price(0.25) } }] },
        }],
      },
      { rating_group: DATA, zones: ['roaming'], connect_fee: '0', tier_scope: 'customer', intervals: [{ from_units: 0, increment_units: 1000, per_units: MB, price: price(3) }] },
      {
        rating_group: VOICE, connect_fee: '0.10', max_charge: '2.00', tier_scope: 'customer',
        intervals: [{ from_units: 0, increment_units: 60, per_units: 60, price: '0.60' }, { from_units: 60, increment_units: 1, per_units: 60, price: '0.60' }],
      },
      {
        rating_group: SMS, connect_fee: '0', tier_scope: 'device',
        intervals: [{ from_units: 0, increment_units: 1, per_units: 1, tiers: { mode: 'volume', steps: [{ up_to_units: 3, price: '0.10' }, { price: '0.05' }] } }],
      },
      { rating_group: API, connect_fee: '0', tier_scope: 'customer', intervals: [{ from_units: 0, increment_units: 1, per_units: 1, price: price(0.01) }] },
      { rating_group: API, service_id: 7, connect_fee: '0', tier_scope: 'customer', intervals: [{ from_units: 0, increment_units: 1, per_units: 1, price: price(0.03) }] },
      { rating_group: API, apn: 'iot.m2m', qos_class: 9, connect_fee: '0', tier_scope: 'customer', intervals: [{ from_units: 0, increment_units: 1, per_units: 1, price: price(0.02) }] },
    ],
  };
}

const CATALOG_TARIFF = { id: 'europe', ...europe('Europe', 1) };
const DOUBLED_TARIFF = { id: 'europe-doubled', ...europe('Europe, doubled', 2) };
const PRICE_CHANGE_MS = START_MS + 2 * HOUR_MS;

function catalog(withPriceChange: boolean) {
  const version = (effectiveFrom: string, tariff: string) => ({ effective_from: effectiveFrom, tariff, allowances: [], fees: [] });
  return {
    rating_groups: [
      { id: DATA, name: 'data', unit: 'bytes' }, { id: SMS, name: 'sms', unit: 'events' },
      { id: VOICE, name: 'voice', unit: 'seconds' }, { id: API, name: 'api', unit: 'events' },
    ],
    tariffs: [CATALOG_TARIFF, DOUBLED_TARIFF],
    plans: [{
      id: 'fleet-plan', name: 'Fleet', currency: 'EUR',
      versions: [
        version('2026-01-01T00:00:00Z', 'europe'),
        ...(withPriceChange ? [version(new Date(PRICE_CHANGE_MS).toISOString().replace('.000', ''), 'europe-doubled')] : []),
      ],
    }],
  };
}

let service: TestService;
let sessions = 0;

async function customer(id: string, devices: string[]): Promise<void> {
  await service.http.ok('PUT', `/v1/customers/${id}`, { name: id, currency: 'EUR', time_zone: 'UTC' });
  for (const device of devices) await service.http.ok('PUT', `/v1/devices/${device}`, { customer_id: id });
  await service.http.ok('POST', '/v1/top-ups', { top_up_id: `opening-${id}`, customer_id: id, amount: '1000.00', currency: 'EUR' });
  await service.http.ok('PUT', `/v1/customers/${id}/subscription`, { plan_id: 'fleet-plan' });
}

beforeAll(async () => {
  service = await startTestService('plan-charging');
  await service.http.ok('POST', '/v1/catalog/apply', catalog(false));
  await service.app.catalog.loadRatingGroups();
});
afterAll(() => service?.close());

/** One session of a device: each step reports usage and asks for more, the last one final. */
class Session {
  readonly id = `plan-session-${++sessions}`;
  private requestNumber = 0;

  constructor(private readonly deviceId: string, private readonly ratingGroup: number) {}

  async reserve(units: number, location = HOME) {
    return this.call('Reserve', { location, items: [{ rating_group: this.ratingGroup, requested_units: String(units) }] });
  }

  async commit(used: number, requested: number, options: { final?: boolean; location?: object } = {}) {
    return this.call('Commit', {
      location: options.location ?? HOME, final: options.final ?? false,
      items: [{ rating_group: this.ratingGroup, used_units: String(used), requested_units: String(requested) }],
    });
  }

  private async call(method: string, body: object) {
    const answer = await service.grpc.ok(method, { session_id: this.id, request_number: ++this.requestNumber, device_id: this.deviceId, ...body });
    return answer.items[0];
  }
}

const charge = (eventId: string, deviceId: string, ratingGroup: number, units: number) =>
  service.grpc.ok('Charge', { event_id: eventId, device_id: deviceId, rating_group: ratingGroup, units: String(units), location: HOME });

describe('a session priced by its place in the session', () => {
  it('charges the connect fee and the first whole minute with the first usage, then per second, up to the session maximum', async () => {
    await customer('voice', ['voice-a']);
    const call = new Session('voice-a', VOICE);
    expect(await call.reserve(60)).toMatchObject({ result: 'RESULT_CODE_SUCCESS', granted_units: '60', reserved_amount: '0.700000' });
    expect((await call.commit(10, 60)).charged_amount, 'fee 0.10 + the first minute, started').toBe('0.700000');
    expect((await call.commit(40, 60)).charged_amount, 'still inside the first minute').toBe('0.000000');
    expect((await call.commit(30, 300)).charged_amount, '20 s past the first minute at 0.01').toBe('0.200000');
    expect((await call.commit(200, 300)).charged_amount, 'a session costs at most 2.00').toBe('1.100000');
    expect((await call.commit(100, 0, { final: true })).charged_amount).toBe('0.000000');
    await expectConserved(service, 'voice');
  });
});

describe('tiers over the period', () => {
  it("prices the pool's data in graduated tiers across its devices and sessions, in whole kB", async () => {
    await customer('tiers', ['tiers-a', 'tiers-b']);
    const first = new Session('tiers-a', DATA);
    expect((await first.reserve(4 * MB)).reserved_amount).toBe('4.000000');
    expect((await first.commit(3_000_500, 4 * MB)).charged_amount, '3001 kB started').toBe('3.001000');
    expect((await first.commit(999_500, 0, { final: true })).charged_amount, 'the rest of 4 MB').toBe('0.999000');
    const second = new Session('tiers-b', DATA);
    await second.reserve(7 * MB);
    expect((await second.commit(7 * MB, 0, { final: true })).charged_amount, '6 MB at 1.00, then 1 MB past 10 MB at 0.50').toBe('6.500000');
    expect(await service.redis.get(tierCounter('tiers', 'c:tiers', DATA))).toBe(String(11 * MB));
    const enquiry = await service.grpc.ok('PriceEnquiry', { device_id: 'tiers-a', rating_group: DATA, units: String(MB), location: HOME });
    expect(enquiry, 'a price enquiry starts where the pool is now').toMatchObject({ amount: '0.500000', zone: 'home', tariff_id: 'europe', lines: [{ price: '0.50', units: String(MB) }] });
    await expectConserved(service, 'tiers');
  });

  it("prices each device's SMS in volume tiers: past the third, free until the cheaper price catches up", async () => {
    await customer('texts', ['texts-a', 'texts-b']);
    const prices: string[] = [];
    for (let sms = 1; sms <= 7; sms++) prices.push((await charge(`texts-a-${sms}`, 'texts-a', SMS, 1)).charged_amount);
    expect(prices).toEqual(['0.100000', '0.100000', '0.100000', '0.000000', '0.000000', '0.000000', '0.050000']);
    expect((await charge('texts-b-1', 'texts-b', SMS, 1)).charged_amount, 'its neighbour counts its own').toBe('0.100000');
  });
});

describe('zones', () => {
  it('prices each report in the zone the device is in, records the zone, and fails an unknown one', async () => {
    await customer('roamer', ['roamer-a']);
    const trip = new Session('roamer-a', DATA);
    await trip.reserve(MB);
    expect((await trip.commit(MB, MB)).charged_amount, 'home').toBe('1.000000');
    expect((await trip.commit(MB / 2, MB, { location: ROAMING })).charged_amount, 'roaming at 3.00').toBe('1.500000');
    expect((await trip.commit(MB / 2, 0, { location: { mcc: '310', mnc: '260' } })).result, 'no zone holds it').toBe('RESULT_CODE_RATING_FAILED');
    const zones = (await readLedger(service, 'roamer')).events.flatMap((event) => (event.data.items ?? []).map((item: { z?: string }) => item.z)).filter(Boolean);
    expect(zones).toEqual(['home', 'roaming']);
    await expectConserved(service, 'roamer');
  });
});

describe('features', () => {
  it('select the most specific rate whose selectors all match what the gateway sent, else fall back', async () => {
    await customer('featured', ['featured-a']);
    const charged = async (eventId: string, attributes?: object) => (await service.grpc.ok('Charge', {
      event_id: eventId, device_id: 'featured-a', rating_group: API, units: '1', location: HOME, ...(attributes === undefined ? {} : { attributes }),
    })).charged_amount;
    expect(await charged('featured-1', { service_id: 7 }), 'service id').toBe('0.030000');
    expect(await charged('featured-2', { service_id: 7, apn: 'iot.m2m', qos_class: 9 }), 'service id outranks APN and QoS').toBe('0.030000');
    expect(await charged('featured-3', { apn: 'iot.m2m', qos_class: 9, device_type: 'meter' }), 'APN and QoS').toBe('0.020000');
    expect(await charged('featured-4', { apn: 'iot.m2m' }), 'only part of a rate\'s selectors: not that rate').toBe('0.010000');
    expect(await charged('featured-5', { service_id: 8 }), 'no rate for service 8').toBe('0.010000');
    expect(await charged('featured-6'), 'nothing sent').toBe('0.010000');
    const enquiry = await service.http.ok('POST', '/v1/charging/price-enquiry', { device_id: 'featured-a', rating_group: API, units: '10', location: HOME, attributes: { serviceId: 7 } });
    expect(enquiry.amount, 'a price enquiry selects alike').toBe('0.300000');
  });
});

describe('concurrent sessions of one pool across a tier boundary', () => {
  it('charges every commit exactly what the engine rates at its place in the period', async () => {
    const devices = Array.from({ length: 12 }, (_, index) => `crowd-${index}`);
    await customer('crowd', devices);
    await Promise.all(devices.map(async (device, index) => {
      const session = new Session(device, DATA);
      await session.reserve(MB);
      for (let step = 0; step < 4; step++) await session.commit(150_000 + 37_321 * ((index + step) % 7), MB);
      await session.commit(1, 0, { final: true });
    }));
    const tariff = compileTariffDocument(parseTariffDocument(europe('Europe', 1)));
    const positions = new Map<string, { units: bigint; micros: bigint }>();
    let periodUnits = 0n;
    let commits = 0;
    for (const event of (await readLedger(service, 'crowd')).events) {
      const item = event.data.items?.[0];
      if (item?.mu === undefined) continue;
      const position = positions.get(event.data.sid) ?? { units: 0n, micros: 0n };
      const usage: Usage = { ratingGroup: DATA, unit: 'bytes', units: BigInt(item.mu), startMs: START_MS, endMs: START_MS, location: HOME };
      const rating = rateUsage(tariff, usage, { sessionUnitsBefore: position.units, sessionRatedMicrosBefore: position.micros, periodUnitsBefore: periodUnits });
      if (!rating.ok) throw new Error(rating.message);
      expect(item.cm, `${event.data.sid} request ${event.data.rq}`).toBe(rating.amountMicros.toString());
      positions.set(event.data.sid, { units: position.units + usage.units, micros: position.micros + rating.ratedMicros });
      periodUnits += usage.units;
      commits++;
    }
    expect(commits).toBe(devices.length * 5);
    expect(periodUnits > 10n * BigInt(MB), 'the pool went past the first tier').toBe(true);
    expect(await service.redis.get(tierCounter('crowd', 'c:crowd', DATA))).toBe(periodUnits.toString());
    await expectConserved(service, 'crowd');
  });
});

describe('a price change', () => {
  it('is picked up while traffic runs, without a restart, and prices what happens after it', async () => {
    await customer('busy', ['busy-a', 'busy-b']);
    const answers: { atMs: number; amount: string; result: string }[] = [];
    const after = () => answers.filter((answer) => answer.atMs >= PRICE_CHANGE_MS).length;
    let stop = false;
    let calls = 0;
    const traffic = Promise.all(['busy-a', 'busy-b'].map(async (device) => {
      while (!stop || after() < 20) {
        const atMs = service.clock.nowMs();
        const answer = await service.grpc.ok('Charge', {
          event_id: `busy-${++calls}`, device_id: device, rating_group: API, units: '1', location: HOME,
          event_time: { seconds: String(atMs / 1000), nanos: 0 },
        });
        answers.push({ atMs, amount: answer.charged_amount, result: answer.result });
      }
    }));
    await service.http.ok('POST', '/v1/catalog/apply', catalog(true));
    service.clock.set(PRICE_CHANGE_MS);
    stop = true;
    await traffic;
    expect(answers.filter((answer) => answer.atMs < PRICE_CHANGE_MS).length, 'charges before the change').toBeGreaterThan(0);
    for (const answer of answers) {
      expect(answer).toEqual({ atMs: answer.atMs, result: 'RESULT_CODE_SUCCESS', amount: answer.atMs < PRICE_CHANGE_MS ? '0.010000' : '0.020000' });
    }
    await expectConserved(service, 'busy');
  });

  it('splits a session that runs over it: the usage before at the old price, after at the new one', async () => {
    await service.http.ok('POST', '/v1/catalog/apply', catalog(true));
    service.clock.set(PRICE_CHANGE_MS - HOUR_MS / 2);
    await customer('split', ['split-a']);
    const session = new Session('split-a', DATA);
    expect((await session.reserve(4 * MB)).reserved_amount).toBe('4.000000');
    service.clock.set(PRICE_CHANGE_MS + HOUR_MS / 2);
    expect((await session.commit(3 * MB, 0, { final: true })).charged_amount, '1.5 MB at 1.00, then 1.5 MB at 2.00').toBe('4.500000');
    await expectConserved(service, 'split');
  });
});

function tierCounter(customerId: string, owner: string, ratingGroup: number): string {
  const month = new Date(service.clock.nowMs()).toISOString().slice(0, 7).replace('-', '');
  return service.app.keys.tierCounter(customerId, `${owner}:${ratingGroup}:${month}`);
}

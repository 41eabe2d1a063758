// A month of a fleet through the online path, on a fake clock, in Europe/Berlin: five devices
// report three sessions a day through March 2027, by night and by day and across the night's
// end, while their pool crosses its tiers, the plan's price changes at midnight on the 15th
// (one session runs over it) and the clocks go forward on the 28th. Every charge is asserted:
// the journal's events are replayed through the engine, each at its place in its session and
// in the pool's month, and one charge across the DST morning is also worked out by hand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileTariffDocument } from '../../src/rating/compiled-tariff.js';
import { rateAcrossVersions, type TariffVersion } from '../../src/rating/split-usage.js';
import { parseTariffDocument } from '../../src/rating/tariff-document.js';
import type { TariffDocument } from '../../src/rating/tariff-format.js';
import { expectConserved, readLedger } from '../support/conservation.js';
import { startTestService, type TestService } from '../support/service.js';

const DATA = 1;
const MB = 1_000_000;
const HOUR_MS = 3_600_000;
const HOME = { mcc: '262', mnc: '01' };
const DEVICES = ['month-0', 'month-1', 'month-2', 'month-3', 'month-4'];
const PRICE_CHANGE = '2027-03-15T00:00:00+01:00';

/** 1.00 a MB for the pool's first 10 MB of the month, then 0.50; half that at night; × scale. */
function berlin(name: string, scale: number): TariffDocument {
  const price = (amount: number) => String(amount * scale);
  return {
    name, currency: 'EUR', time_zone: 'Europe/Berlin', rounding: { mode: 'half-even', decimals: 6 }, final_unit_action: 'terminate',
    bands: [{ name: 'night', weight: 10, from: '22:00', until: '06:00' }],
    rates: [{
      rating_group: DATA, connect_fee: '0', tier_scope: 'customer',
      intervals: [{
        from_units: 0, increment_units: 1000, per_units: MB,
        tiers: { mode: 'graduated', steps: [{ up_to_units: 10 * MB, price: price(1), band_prices: { night: price(0.5) } }, { price: price(0.5), band_prices: { night: price(0.25) } }] },
      }],
    }],
  };
}

const VERSIONS: TariffVersion[] = [
  { effectiveFromMs: Date.parse('2026-01-01T00:00:00Z'), tariff: compileTariffDocument(parseTariffDocument(berlin('Berlin', 1))) },
  { effectiveFromMs: Date.parse(PRICE_CHANGE), tariff: compileTariffDocument(parseTariffDocument(berlin('Berlin, from the 15th', 1.5))) },
];

let service: TestService;
let sessions = 0;

beforeAll(async () => {
  service = await startTestService('plan-month');
  await service.http.ok('POST', '/v1/catalog/apply', {
    rating_groups: [{ id: DATA, name: 'data', unit: 'bytes' }],
    tariffs: [{ id: 'berlin-1', ...berlin('Berlin', 1) }, { id: 'berlin-2', ...berlin('Berlin, from the 15th', 1.5) }],
    plans: [{
      id: 'berlin-plan', name: 'Berlin', currency: 'EUR',
      versions: [{ effective_from: '2026-01-01T00:00:00Z', tariff: 'berlin-1', allowances: [], fees: [] }, { effective_from: PRICE_CHANGE, tariff: 'berlin-2', allowances: [], fees: [] }],
    }],
  });
  await service.app.catalog.loadRatingGroups();
  service.clock.set(Date.parse('2027-03-01T00:00:00+01:00'));
  await service.http.ok('PUT', '/v1/customers/month', { name: 'month', currency: 'EUR', time_zone: 'Europe/Berlin' });
  for (const device of [...DEVICES, 'month-dst']) await service.http.ok('PUT', `/v1/devices/${device}`, { customer_id: 'month' });
  await service.http.ok('POST', '/v1/top-ups', { top_up_id: 'opening-month', customer_id: 'month', amount: '10000.00', currency: 'EUR' });
  await service.http.ok('PUT', '/v1/customers/month/subscription', { plan_id: 'berlin-plan' });
});
afterAll(() => service?.close());

/** Every device reserves at `startMs` and reports its usage an hour later, final. */
async function sessionsAt(startMs: number, devices: string[], usedOf: (device: number) => number): Promise<string[]> {
  const ids = devices.map(() => `month-session-${++sessions}`);
  service.clock.set(startMs);
  await Promise.all(devices.map((device, index) => service.grpc.ok('Reserve', {
    session_id: ids[index], request_number: 1, device_id: device, location: HOME, items: [{ rating_group: DATA, requested_units: String(2 * MB) }],
  })));
  service.clock.set(startMs + HOUR_MS);
  const answers = await Promise.all(devices.map((device, index) => service.grpc.ok('Commit', {
    session_id: ids[index], request_number: 2, device_id: device, location: HOME, final: true,
    items: [{ rating_group: DATA, used_units: String(usedOf(index)), requested_units: '0' }],
  })));
  return answers.map((answer) => answer.items[0].charged_amount);
}

const local = (day: number, time: string) => Date.parse(`2027-03-${String(day).padStart(2, '0')}T${time}:00${day >= 28 && !(day === 28 && time < '02:00') ? '+02:00' : '+01:00'}`);

describe('a month of a fleet', () => {
  it('charges every report exactly what the engine rates at its place in its session and in the month', async () => {
    for (let day = 1; day <= 31; day++) {
      for (const time of ['03:00', '12:00', '21:30', ...(day === 14 ? ['23:30'] : [])]) {
        await sessionsAt(local(day, time), DEVICES, (device) => (1 + ((day * 7 + device * 3 + time.length) % 11)) * 150_000 + device * 1_001);
      }
      if (day === 28) {
        const [amount] = await sessionsAt(local(28, '05:30'), ['month-dst'], () => 1_200_000);
        // 05:30 to 06:30 summer time: 0.6 MB by night at 0.375, 0.6 MB by day at 0.75 (second tier, new prices).
        expect(amount, 'across the end of the night on the day the clocks go forward').toBe('0.675000');
      }
    }
    const replayed = replay((await readLedger(service, 'month')).events);
    expect(replayed.reports).toBe(DEVICES.length * (31 * 3 + 1) + 1);
    expect(replayed.splitAtPriceChange, 'the session over midnight on the 14th, each device').toBe(DEVICES.length);
    expect(replayed.crossedNight, 'reports across a band boundary').toBeGreaterThan(DEVICES.length * 31);
    expect(await service.redis.get(service.app.keys.tierCounter('month', `c:month:${DATA}:202703`))).toBe(String(replayed.periodUnits));
    await expectConserved(service, 'month');
  });
});

interface ReplayEvent {
  type: string;
  data: { sid: string; at: string; items?: { mu?: string; cm?: string }[] };
}

/** Rates each commit's money units with the engine, in the order the pool's counter saw them. */
function replay(events: ReplayEvent[]) {
  const sessionsSeen = new Map<string, { units: bigint; micros: bigint; reportedAtMs: number }>();
  let periodUnits = 0n;
  let reports = 0;
  let splitAtPriceChange = 0;
  let crossedNight = 0;
  for (const event of events) {
    const atMs = Number(event.data.at);
    const session = sessionsSeen.get(event.data.sid) ?? { units: 0n, micros: 0n, reportedAtMs: atMs };
    const item = event.data.items?.[0];
    if (event.type === 'commit' && item?.mu !== undefined) {
      const usage = { ratingGroup: DATA, unit: 'bytes' as const, units: BigInt(item.mu), startMs: session.reportedAtMs, endMs: atMs, location: HOME };
      const versions = VERSIONS.filter((version, index) => version.effectiveFromMs <= atMs && (VERSIONS[index + 1]?.effectiveFromMs ?? Infinity) > session.reportedAtMs);
      const rated = rateAcrossVersions(versions, usage, { sessionUnitsBefore: session.units, sessionRatedMicrosBefore: session.micros, periodUnitsBefore: periodUnits });
      if (!rated.ok) throw new Error(rated.message);
      expect(item.cm, `${event.data.sid} at ${new Date(atMs).toISOString()}`).toBe(rated.amountMicros.toString());
      if (rated.parts.length > 1) splitAtPriceChange++;
      if (rated.parts.some((part) => new Set(part.rating.lines.map((line) => line.band)).size > 1)) crossedNight++;
      sessionsSeen.set(event.data.sid, { units: rated.context.sessionUnitsBefore, micros: rated.context.sessionRatedMicrosBefore, reportedAtMs: atMs });
      periodUnits += usage.units;
      reports++;
    } else {
      sessionsSeen.set(event.data.sid, { ...session, reportedAtMs: atMs });
    }
  }
  return { reports, splitAtPriceChange, crossedNight, periodUnits };
}

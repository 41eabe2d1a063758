// Redis loses its data; the service starts again (projecting customers, devices and allowances
// anew, with nothing spent) and `rebuild` restores every wallet and allowance bucket from the
// journal, voiding the holds that were open, and journals that; tier counters are counted again
// from the journal too, so the next charge is priced where the month left off. Redis and the
// journal then agree.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { createPool } from '../../src/db/database.js';
import { Journal } from '../../src/ledger/journal.js';
import { Rebuilder } from '../../src/ledger/rebuilder.js';
import { runLedgerCli } from '../../scripts/ledger.js';
import { HttpClient, provisionFleet, ratingGroups, startTestService, type TestService } from '../support/service.js';

let service: TestService;
const DATA = 1;
const SMS = 2;
const API = 3;

beforeAll(async () => {
  service = await startTestService('ledger-rebuild');
  await ratingGroups(service, [[DATA, 'bytes'], [SMS, 'events']]);
  await service.app.catalog.loadRatingGroups();
  await provisionFleet(service, {
    customerId: 'lost', devices: ['lost-a', 'lost-b'], balance: '5.00',
    tariff: { id: 'lost-tariff', rates: [{ rating_group: DATA, price: '1.00', per_units: 1_000_000, increment_units: 1000 }, { rating_group: SMS, price: '0.01' }] },
  });
  await service.http.ok('POST', '/v1/customers/lost/allowances', {
    id: 'lost-pool', rating_group: DATA, units_total: 1_000_000, valid_from: '2026-01-01T00:00:00Z', valid_until: '2027-01-01T00:00:00Z',
  });
  await service.http.ok('POST', '/v1/customers/lost/allowances', {
    id: 'lost-own', device_id: 'lost-b', rating_group: SMS, units_total: 10, valid_from: '2026-01-01T00:00:00Z', valid_until: '2027-01-01T00:00:00Z',
  });
  // A device on a plan whose API calls are priced in volume tiers over its own month.
  await service.http.ok('POST', '/v1/catalog/apply', {
    rating_groups: [{ id: API, name: 'api', unit: 'events' }],
    tariffs: [{
      id: 'api-volume', name: 'API', currency: 'EUR',
      rates: [{ rating_group: API, tier_scope: 'device', intervals: [{ increment_units: 1, tiers: { mode: 'volume', steps: [{ up_to_units: 5, price: '0.01' }, { price: '0.005' }] } }] }],
    }],
    plans: [{ id: 'api-plan', name: 'API', currency: 'EUR', versions: [{ effective_from: '2026-01-01T00:00:00Z', tariff: 'api-volume' }] }],
  });
  await service.app.catalog.loadRatingGroups();
  await service.http.ok('PUT', '/v1/devices/lost-c', { customer_id: 'lost' });
  await service.http.ok('PUT', '/v1/devices/lost-c/subscription', { plan_id: 'api-plan' });
});
const API_COUNTER = 'd:lost-c:3:202611';
afterAll(() => service?.close());

async function wallet(app: { redis: App['store']['redis']; keys: App['keys'] }) {
  const [balance, held] = await app.redis.hmget(app.keys.wallet('lost'), 'balance', 'held');
  const bucket = async (id: string) => app.redis.hmget(app.keys.allowance('lost', id), 'used', 'held');
  return { balance, held, pool: await bucket('lost-pool'), own: await bucket('lost-own') };
}

describe('rebuilding Redis from the journal', () => {
  it('restores balances and allowance usage, voids the open holds, journals it, and reconciles', async () => {
    // Usage beyond the pooled allowance, one-shot charges from a device's own bundle, and a hold left open.
    await service.grpc.ok('Reserve', { session_id: 'lost-1', request_number: 1, device_id: 'lost-a', items: [{ rating_group: DATA, requested_units: '800000' }] });
    await service.grpc.ok('Commit', { session_id: 'lost-1', request_number: 2, device_id: 'lost-a', final: true, items: [{ rating_group: DATA, used_units: '1500000' }] });
    for (let sms = 0; sms < 12; sms++) await service.grpc.ok('Charge', { event_id: `lost-sms-${sms}`, device_id: 'lost-b', rating_group: SMS, units: '1' });
    await service.grpc.ok('Reserve', { session_id: 'lost-open', request_number: 1, device_id: 'lost-a', items: [{ rating_group: DATA, requested_units: '300000' }] });
    // Five calls at 0.01, then two free while 0.005 a call catches up with the 0.05 charged.
    for (let call = 0; call < 7; call++) await service.grpc.ok('Charge', { event_id: `lost-api-${call}`, device_id: 'lost-c', rating_group: API, units: '1' });
    const before = await wallet({ redis: service.redis, keys: service.app.keys });
    expect(before).toEqual({ balance: '4430000', held: '300000', pool: ['1000000', '0'], own: ['10', '0'] });
    expect(await service.redis.get(service.app.keys.tierCounter('lost', API_COUNTER))).toBe('7');
    expect(await service.http.ok('GET', '/v1/ledger/reconciliation')).toEqual({ customers: 1, differences: [] });

    // Redis loses everything of this service; a process starts again on it and projects anew.
    const lost = await service.redis.keys(`${service.context.keyPrefix}*`);
    await service.redis.del(...lost);
    const pool = createPool(service.context.databaseUrl, service.context.schema);
    const restarted = await startApp({ config: service.config, redis: service.redis, pool, clock: service.clock, logger: pino({ level: 'silent' }), startBackgroundJobs: false });
    try {
      expect(await wallet({ redis: service.redis, keys: restarted.keys })).toEqual({ balance: '0', held: '0', pool: ['0', '0'], own: ['0', '0'] });
      const http = new HttpClient(`http://127.0.0.1:${restarted.httpPort}`);
      const out: string[] = [];
      expect(await runLedgerCli(['rebuild'], { out: (text) => out.push(text), err: (text) => out.push(text) }, { IO_HTTP_URL: http.baseUrl })).toBe(0);
      expect(out).toEqual(['1 customers restored from the journal; 300000 micros of holds voided']);

      expect(await wallet({ redis: service.redis, keys: restarted.keys })).toEqual({ ...before, held: '0' });
      expect(await service.redis.get(service.app.keys.tierCounter('lost', API_COUNTER)), 'the tier counter, from the journal').toBe('7');
      expect(await http.ok('GET', '/v1/ledger/reconciliation')).toEqual({ customers: 1, differences: [] });
      const { rows } = await service.context.pool.query(`SELECT balance_after_micros, data FROM journal_events WHERE type = 'rebuild'`);
      expect(rows).toMatchObject([{ balance_after_micros: '4430000', data: { cus: 'lost', items: [{ rm: '300000' }] } }]);
      const next = await service.grpc.ok('Charge', { event_id: 'lost-api-7', device_id: 'lost-c', rating_group: API, units: '1' });
      expect(next.charged_amount, 'still catching up: the month goes on where it was').toBe('0.000000');
    } finally {
      await restarted.close();
      await pool.end();
    }
  });

  const refusals = [
    ['a gateway holds a reservation', async () => {
      await service.grpc.ok('Reserve', { session_id: 'live-1', request_number: 1, device_id: 'lost-a', items: [{ rating_group: DATA, requested_units: '100000' }] });
    }],
    ['charging happened just now, with nothing held', async () => {
      await service.grpc.ok('Release', { session_id: 'live-1', request_number: 2, device_id: 'lost-a' });
      await service.grpc.ok('Charge', { event_id: 'live-sms', device_id: 'lost-b', rating_group: SMS, units: '1' });
    }],
  ] as const;

  it.each(refusals)('then refuses while charging traffic flows (%s), says why, and changes nothing', async (_case, traffic) => {
    await traffic();
    const before = await wallet({ redis: service.redis, keys: service.app.keys });
    const rebuildsBefore = (await service.context.pool.query(`SELECT 1 FROM journal_events WHERE type = 'rebuild'`)).rowCount;
    const refused = await service.http.request('POST', '/v1/ledger/rebuild');
    expect(refused.status, refused.text).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'CHARGING_IN_PROGRESS' });
    expect(refused.body.error.message).toMatch(/charging traffic/);
    expect(await wallet({ redis: service.redis, keys: service.app.keys })).toEqual(before);
    expect((await service.context.pool.query(`SELECT 1 FROM journal_events WHERE type = 'rebuild'`)).rowCount).toBe(rebuildsBefore);
  });

  it('refuses a journal whose holds went below zero, rather than report a negative void', async () => {
    const journal = new Journal(service.context.pool, service.clock);
    const quietRebuilder = new Rebuilder(service.context.pool, service.redis, service.app.keys, journal, service.app.ledger, service.clock, 0);
    const atMs = service.clock.nowMs() + 1;
    // A release the journal saw without its grant, as events still arriving would leave it.
    await journal.writeRebuild('lost', 0n, 5n, atMs);
    try {
      const before = await wallet({ redis: service.redis, keys: service.app.keys });
      await expect(quietRebuilder.rebuild()).rejects.toMatchObject({ code: 'CHARGING_IN_PROGRESS' });
      expect(await wallet({ redis: service.redis, keys: service.app.keys })).toEqual(before);
    } finally {
      await service.context.pool.query(`DELETE FROM journal_events WHERE stream_id = $1`, [`rebuild:${atMs}:lost`]);
    }
  });

  it("journals each customer's rebuild event, however many fall in the same millisecond", async () => {
    const journal = new Journal(service.context.pool, service.clock);
    const atMs = service.clock.nowMs() + 5000;
    expect(await journal.writeRebuild('lost', 0n, 0n, atMs)).toBe(1);
    expect(await journal.writeRebuild('lost-twin', 0n, 0n, atMs)).toBe(1);
    const { rows } = await service.context.pool.query(`SELECT customer_id FROM journal_events WHERE type = 'rebuild' AND occurred_at = $1 ORDER BY customer_id`, [new Date(atMs)]);
    expect(rows.map((row) => row.customer_id)).toEqual(['lost', 'lost-twin']);
    await service.context.pool.query(`DELETE FROM journal_events WHERE type = 'rebuild' AND occurred_at = $1`, [new Date(atMs)]);
  });
});

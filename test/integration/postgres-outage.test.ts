// PostgreSQL goes away for 30 s under load and comes back. Online charging never waits for it, so
// every charge is answered throughout; the ledger cannot journal meanwhile (it keeps trying), so
// the events wait in Redis, nothing acknowledged. Once PostgreSQL is back on the same port, the
// journal catches up, each event once, and reconciles with Redis. This file runs its own
// PostgreSQL, since it stops it. The outage is measured on the wall clock, as outages are; no
// assertion depends on how many flows fit in it.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout } from 'node:timers/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/database.js';
import { formatMicros } from '../../src/money/amount.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/infra/embedded-postgres.js';
import { freePort } from '../../src/infra/free-port.js';
import { provisionFleet, ratingGroups, startTestService, type TestService } from '../support/service.js';

const SMS = 2;
const OUTAGE_MS = 30_000;
const LEDGER_ATTEMPT_EVERY_FLOWS = 100;
/** Steady load, not flat out: 30 s of a busy loop would starve the test files running beside this one. */
const PAUSE_BETWEEN_FLOWS_MS = 10;

let service: TestService;
let postgres: EmbeddedPostgresHandle;
let directory: string;
let port: number;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'io-billing-postgres-outage-'));
  // As root the server runs as the postgres user, which must enter this folder (ours, just made).
  if (process.getuid?.() === 0) await chmod(directory, 0o711);
  port = await freePort();
  postgres = await startEmbeddedPostgres({ directory: join(directory, 'data'), port });
  service = await startTestService('postgres-outage', { databaseUrl: postgres.url });
  await ratingGroups(service, [[SMS, 'events']]);
  await service.app.catalog.loadRatingGroups();
  await provisionFleet(service, {
    customerId: 'steady', devices: ['steady-a', 'steady-b'], balance: '1000.00',
    tariff: { id: 'cents', rates: [{ rating_group: SMS, price: '0.01', per_units: 1, increment_units: 1 }] },
  });
}, 120_000);

afterAll(async () => {
  await service?.close();
  await postgres?.stop();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

let sessions = 0;
async function traffic(): Promise<void> {
  const session = `steady-${++sessions}`;
  await service.grpc.ok('Reserve', { session_id: session, request_number: 1, device_id: 'steady-a', items: [{ rating_group: SMS, requested_units: '10' }] });
  await service.grpc.ok('Commit', { session_id: session, request_number: 2, device_id: 'steady-a', final: true, items: [{ rating_group: SMS, used_units: '6' }] });
  await service.grpc.ok('Charge', { event_id: `${session}-sms`, device_id: 'steady-b', rating_group: SMS, units: '1' });
}

describe('a PostgreSQL outage', () => {
  it('leaves charging answering, keeps the events in Redis, and the journal catches up once, clean', async () => {
    await traffic();
    await service.app.ledger.drainOnce();
    const streamKey = service.app.keys.stream(service.app.keys.partitionOf('steady'));

    await postgres.stop();
    const stoppedAt = Date.now();
    let flows = 0;
    let attempts = 0;
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      await traffic(); // each call must succeed: service.grpc.ok throws otherwise
      await setTimeout(PAUSE_BETWEEN_FLOWS_MS);
      if (++flows % LEDGER_ATTEMPT_EVERY_FLOWS === 0) {
        await expect(service.app.ledger.drainOnce(), 'the journal cannot be written').rejects.toThrow();
        attempts++;
      }
    }
    expect(attempts, 'the worker kept trying').toBeGreaterThan(0);
    const waiting = await service.redis.xlen(streamKey);
    expect(waiting, 'every event of the outage waits in Redis').toBe(flows * 3);
    // 1000.00 − each flow's 6 + 1 SMS at 0.01, the first flow included
    const spentMicros = BigInt(flows + 1) * 70_000n;
    expect((await service.grpc.ok('GetBalance', { customer_id: 'steady' })).wallet.balance).toBe(formatMicros(1_000_000_000n - spentMicros));

    postgres = await startEmbeddedPostgres({ directory: join(directory, 'data'), port });
    let journaled = 0;
    const passesMax = Math.ceil(waiting / service.config.ledgerBatchMax) + 10;
    for (let pass = 0; pass < passesMax && journaled < waiting; pass++) journaled += await service.app.ledger.drainOnce().catch(() => 0);
    expect(journaled).toBe(waiting);
    expect(await service.http.ok('GET', '/v1/ledger/reconciliation')).toEqual({ customers: 1, differences: [] });
    const pool = createPool(postgres.url, service.context.schema);
    const { rows } = await pool.query<{ events: string; distinct: string }>(
      `SELECT count(*) AS events, count(DISTINCT stream_id) AS distinct FROM journal_events WHERE customer_id = 'steady'`);
    await pool.end();
    expect(rows[0], 'the opening top-up and every flow\'s 3 events, each once').toEqual({ events: String(1 + (flows + 1) * 3), distinct: String(1 + (flows + 1) * 3) });
  }, 120_000);
});

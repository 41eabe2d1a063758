// Journal ingest rate: events per second the ledger worker moves from the partitions' streams into
// PostgreSQL (read through the consumer group, one transaction per batch, acknowledge, trim). A
// private redis-server holds streams filled beforehand with events shaped like the scripts'
// (commits of a session with one rating group), so only the worker is timed.
//
//   npm run bench:ledger            BENCH_LEDGER_EVENTS (default 200000), BENCH_LEDGER_BATCH (1000)
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import pg from 'pg';
import { KeySpace } from '../src/balance/keys.js';
import { createPool, migrate } from '../src/db/database.js';
import { findPostgres } from '../src/infra/find-postgres.js';
import { startRedisServer } from '../src/infra/redis-server.js';
import { Journal } from '../src/ledger/journal.js';
import { LedgerWorker } from '../src/ledger/ledger-worker.js';

const EVENTS = Number(process.env['BENCH_LEDGER_EVENTS'] ?? 200_000);
const BATCH = Number(process.env['BENCH_LEDGER_BATCH'] ?? 1000);
const PARTITIONS = 16;
const FILL_PIPELINE = 1000;
const TARGET_EVENTS_PER_SECOND = 20_000;

async function main(): Promise<void> {
  const redisServer = await startRedisServer({ appendOnly: false });
  const database = await findPostgres({ useExisting: true, purpose: 'io-billing-bench' });
  const schema = `bench_ledger_${Date.now().toString(36)}`;
  const pool = createPool(database.url, schema);
  const redis = new Redis(redisServer.url);
  try {
    await migrate(pool, schema);
    const keys = new KeySpace('bench:', PARTITIONS);
    await fill(redis, keys);
    const worker = new LedgerWorker(redis, keys, new Journal(pool), { partitionCount: PARTITIONS, intervalMs: 1000, batchMax: BATCH, claimIdleMs: 60_000, backlogWarnEvents: Number.MAX_SAFE_INTEGER });
    const started = performance.now();
    let journaled = 0;
    for (let pass = 0; journaled < EVENTS && pass < EVENTS; pass++) journaled += await worker.drainOnce();
    const seconds = (performance.now() - started) / 1000;
    const rows = Number((await pool.query<{ count: string }>('SELECT count(*) FROM journal_events')).rows[0]!.count);
    const rate = Math.round(journaled / seconds);
    console.log(`journal ingest: ${journaled.toLocaleString('en')} events in ${seconds.toFixed(2)} s = ${rate.toLocaleString('en')} events/s ` +
      `(batches of ${BATCH}, ${PARTITIONS} partitions; ${rows.toLocaleString('en')} rows; target ≥ ${TARGET_EVENTS_PER_SECOND.toLocaleString('en')}: ${rate >= TARGET_EVENTS_PER_SECOND ? 'PASS' : 'FAIL'})`);
  } finally {
    redis.disconnect();
    await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`).catch(() => undefined);
    await pool.end();
    await database.release();
    await redisServer.stop();
  }
}

/** Events like a commit's, spread over the partitions' streams as customers spread. */
async function fill(redis: Redis, keys: KeySpace): Promise<void> {
  for (let written = 0; written < EVENTS; written += FILL_PIPELINE) {
    const pipeline = redis.pipeline();
    for (let index = written; index < Math.min(EVENTS, written + FILL_PIPELINE); index++) {
      const customer = `bench-customer-${index % 1000}`;
      pipeline.xadd(keys.stream(keys.partitionOf(customer)), '*', 'type', 'commit', 'data', JSON.stringify(commitEvent(customer, index)));
    }
    await pipeline.exec();
  }
}

function commitEvent(customer: string, index: number) {
  return {
    sid: `smf-01.bench.example;${index}`, rq: '2', dev: `8944000000000${String(index % 100_000).padStart(6, '0')}`, cus: customer,
    at: '1795618365436', now: '1795618365436', fin: 0, bal: '999999999198', held: '501',
    items: [{ rg: '1', used: '800000', au: '0', ab: [], mu: '800000', cm: '401', ru: '1000000', rm: '501', rb: [], g: '1000000', ga: '0', gm: '501', gb: [] }],
  };
}

await main();

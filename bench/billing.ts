// Billing run time: 1,000 postpaid customers with 100,000 devices on a plan with a monthly fee
// per device, and 5,000,000 usage records in the journal for November 2026, invoiced by one
// billing run as of 1 December. The data is written straight into PostgreSQL (as the ledger
// would have), so only the billing run is timed; its peak memory is sampled too.
//
//   npm run bench:billing       BENCH_BILLING_CUSTOMERS (1000), BENCH_BILLING_DEVICES (100000),
//                               BENCH_BILLING_RECORDS (5000000)
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { BillingRun } from '../src/billing/billing-run.js';
import { ManualClock } from '../src/clock.js';
import { createPool, migrate } from '../src/db/database.js';
import { findPostgres } from '../src/infra/find-postgres.js';
import { parseTariffDocument } from '../src/rating/tariff-document.js';

const CUSTOMERS = Number(process.env['BENCH_BILLING_CUSTOMERS'] ?? 1000);
const DEVICES = Number(process.env['BENCH_BILLING_DEVICES'] ?? 100_000);
const RECORDS = Number(process.env['BENCH_BILLING_RECORDS'] ?? 5_000_000);
const RECORDS_PER_STATEMENT = 500_000;
const TARGET_SECONDS = 300;
const AS_OF_MS = Date.parse('2026-12-01T06:00:00Z');
/** As the catalog stores a tariff: defaults filled in. The records' amounts are written as rated. */
const TARIFF_DOCUMENT = JSON.stringify(parseTariffDocument({ name: 'bench', currency: 'EUR', rates: [{ rating_group: 1, intervals: [{ increment_units: 1, price: '0.01' }] }] }));
const NOVEMBER_MS = Date.parse('2026-11-01T00:00:00Z');
const MONTH_MS = 30 * 86_400_000;

async function main(): Promise<void> {
  const database = await findPostgres({ useExisting: true, purpose: 'io-billing-bench' });
  const schema = `bench_billing_${Date.now().toString(36)}`;
  const pool = createPool(database.url, schema);
  try {
    await migrate(pool, schema);
    const filled = performance.now();
    await fill(pool);
    log(`filled ${CUSTOMERS} customers, ${DEVICES} devices and ${RECORDS} usage records in ${seconds(filled)} s`);
    const peak = { rss: process.memoryUsage().rss };
    const sampler = setInterval(() => (peak.rss = Math.max(peak.rss, process.memoryUsage().rss)), 100);
    const started = performance.now();
    const report = await new BillingRun(pool, new ManualClock(AS_OF_MS)).run(AS_OF_MS);
    const elapsed = seconds(started);
    clearInterval(sampler);
    const lines = Number((await pool.query<{ count: string }>('SELECT count(*) FROM invoice_lines')).rows[0]!.count);
    log(`billing run: ${report.invoiced.length} invoices with ${lines.toLocaleString('en')} lines in ${elapsed} s, peak RSS ${Math.round(peak.rss / 1048576)} MiB ` +
      `(target ≤ ${TARGET_SECONDS} s: ${Number(elapsed) <= TARGET_SECONDS ? 'PASS' : 'FAIL'})`);
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`).catch(() => undefined);
    await pool.end();
    await database.release();
  }
}

/** Customers, devices, a plan with a per-device fee, a subscription each, and the journal's November. */
async function fill(pool: pg.Pool): Promise<void> {
  await pool.query(`INSERT INTO customers (id, name, currency, time_zone, billing_mode, tax_rates)
    SELECT 'c' || n, 'customer ' || n, 'EUR', 'UTC', 'postpaid', '[{"name":"VAT","percent":"20"}]' FROM generate_series(1, $1) AS n`, [CUSTOMERS]);
  await pool.query(`INSERT INTO devices (id, customer_id, status, activated_at)
    SELECT 'd' || n, 'c' || (1 + n % $2), 'active', '2026-10-01T00:00:00Z' FROM generate_series(1, $1) AS n`, [DEVICES, CUSTOMERS]);
  await pool.query(`INSERT INTO catalog_tariffs (id, currency, document) VALUES ('bench', 'EUR', $1)`, [TARIFF_DOCUMENT]);
  await pool.query(`INSERT INTO plans (id, name, currency) VALUES ('bench-plan', 'bench', 'EUR')`);
  await pool.query(`INSERT INTO plan_versions (plan_id, effective_from, tariff_id, tariff_version, tariff_document, allowances, fees)
    VALUES ('bench-plan', '2026-01-01T00:00:00Z', 'bench', 1, $1, '[]', '[{"name":"device-access","per":"device","period":"month","amount":"1.50","prorate":true}]')`, [TARIFF_DOCUMENT]);
  await pool.query(`INSERT INTO subscriptions (customer_id, plan_id, valid_from)
    SELECT 'c' || n, 'bench-plan', '2026-10-01T00:00:00Z' FROM generate_series(1, $1) AS n`, [CUSTOMERS]);
  await pool.query(`CREATE TABLE IF NOT EXISTS journal_events_2026_11 PARTITION OF journal_events FOR VALUES FROM ('2026-11-01T00:00:00Z') TO ('2026-12-01T00:00:00Z')`);
  for (let from = 1; from <= RECORDS; from += RECORDS_PER_STATEMENT) {
    await pool.query(`INSERT INTO journal_events (occurred_at, stream_partition, stream_id, type, customer_id, device_id, session_id,
        charged_micros, balance_after_micros, held_after_micros, journaled_at, data)
      SELECT to_timestamp(($3::bigint + (n * 7919) % $4::bigint) / 1000.0), n % 16, n || '-0', 'commit', 'c' || (1 + n % $5), 'd' || (1 + n % $6), 's' || n,
             401, -401 * n, 0, to_timestamp(($3::bigint + (n * 7919) % $4::bigint) / 1000.0),
             jsonb_build_object('cus', 'c' || (1 + n % $5), 'items', jsonb_build_array(jsonb_build_object('rg', 1 + n % 3, 'used', '800000', 'cm', '401')))
      FROM generate_series($1::bigint, $2::bigint) AS n`,
      [from, Math.min(RECORDS, from + RECORDS_PER_STATEMENT - 1), NOVEMBER_MS, MONTH_MS, CUSTOMERS, DEVICES]);
  }
  await pool.query('ANALYZE journal_events');
}

function seconds(sinceMs: number): string {
  return ((performance.now() - sinceMs) / 1000).toFixed(1);
}

function log(message: string): void {
  console.log(`[bench:billing] ${message}`);
}

await main();

// The ledger worker moves every stream event into the PostgreSQL journal exactly once: each
// event once, however often it is delivered, acknowledged only once journaled, and trimmed from
// Redis after. The journal alone then proves each wallet: balance = top-ups − charges.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/ledger/journal.js';
import { LedgerWorker } from '../../src/ledger/ledger-worker.js';
import { runLedgerCli } from '../../scripts/ledger.js';
import { provisionFleet, ratingGroups, startTestService, type TestService } from '../support/service.js';

let service: TestService;
const SMS = 2;
const SMS_CENT = { rating_group: SMS, price: '0.01', per_units: 1, increment_units: 1 };

beforeAll(async () => {
  service = await startTestService('ledger');
  await ratingGroups(service, [[SMS, 'events']]);
  await service.app.catalog.loadRatingGroups();
  await provisionFleet(service, { customerId: 'books', devices: ['books-a', 'books-b'], balance: '1.00', tariff: { id: 'books-tariff', rates: [SMS_CENT] } });
});
afterAll(() => service?.close());

let sessions = 0;
async function traffic(): Promise<void> {
  const session = `books-${++sessions}`;
  await service.grpc.ok('Reserve', { session_id: session, request_number: 1, device_id: 'books-a', items: [{ rating_group: SMS, requested_units: '10' }] });
  await service.grpc.ok('Commit', { session_id: session, request_number: 2, device_id: 'books-a', items: [{ rating_group: SMS, used_units: '4', requested_units: '10' }] });
  await service.grpc.ok('Commit', { session_id: session, request_number: 3, device_id: 'books-a', final: true, items: [{ rating_group: SMS, used_units: '3' }] });
  await service.grpc.ok('Charge', { event_id: `${session}-event`, device_id: 'books-b', rating_group: SMS, units: '2' });
  await service.grpc.ok('TopUp', { top_up_id: `${session}-top-up`, customer_id: 'books', amount: '0.50', currency: 'EUR' });
}

const streamKey = () => service.app.keys.stream(service.app.keys.partitionOf('books'));
const streamLength = () => service.redis.xlen(streamKey());

async function journal() {
  const { rows } = await service.context.pool.query<{ events: string; duplicates: string; topped_up: string; charged: string; last_balance: string }>(
    `SELECT count(*) AS events, count(*) - count(DISTINCT (stream_partition, stream_id)) AS duplicates,
            sum(topped_up_micros) AS topped_up, sum(charged_micros) AS charged,
            (array_agg(balance_after_micros ORDER BY stream_id DESC))[1] AS last_balance
     FROM journal_events WHERE customer_id = 'books'`);
  return rows[0]!;
}

async function redisBalanceMicros(): Promise<bigint> {
  return BigInt((await service.redis.hget(service.app.keys.wallet('books'), 'balance'))!);
}

describe('the ledger worker', () => {
  it('journals every event once, trims what it journaled, and the journal proves the wallet', async () => {
    await traffic();
    const events = await streamLength();
    expect(events).toBe(1 + 5); // the opening top-up, then reserve, two commits, a charge, a top-up
    expect((await service.app.ledger.backlog(Date.now())).events).toBe(events);

    expect(await service.app.ledger.drainOnce()).toBe(events);
    expect(await service.app.ledger.drainOnce(), 'a second pass finds nothing').toBe(0);
    expect(await streamLength(), 'journaled events leave Redis').toBe(0);
    expect(await service.app.ledger.backlog(Date.now())).toEqual({ events: 0, oldestAgeMs: 0 });

    const books = await journal();
    expect(books).toMatchObject({ events: String(events), duplicates: '0' });
    const balance = await redisBalanceMicros();
    expect(BigInt(books.topped_up) - BigInt(books.charged), 'balance = top-ups − charges, from the journal alone').toBe(balance);
    expect(BigInt(books.last_balance)).toBe(balance);
  });

  it('journals each event once when a worker crashed between its commit and its acknowledgement', async () => {
    await traffic();
    await traffic();
    const before = Number((await journal()).events);
    const waiting = await streamLength();
    // A worker that read everything, journaled the first half, and died before acknowledging any.
    const raw = new Redis(service.context.redisUrl);
    const delivered = (await raw.xreadgroup('GROUP', 'ledger', 'crashed', 'COUNT', 100, 'STREAMS', streamKey(), '>')) as [string, [string, string[]][]][];
    raw.disconnect();
    const entries = delivered[0]![1];
    expect(entries).toHaveLength(waiting);
    const partition = service.app.keys.partitionOf('books');
    const firstHalf = entries.slice(0, Math.floor(entries.length / 2)).map(([id, fields]) => ({ partition, id, type: fields[1]!, data: JSON.parse(fields[3]!) }));
    await new Journal(service.context.pool).write(firstHalf);

    // Another worker takes the crashed one's entries over (at once here: no idle time asked).
    const survivor = new LedgerWorker(service.redis, service.app.keys, new Journal(service.context.pool), {
      partitionCount: service.config.partitionCount, intervalMs: 1000, batchMax: 1000, claimIdleMs: 0, backlogWarnEvents: 1_000_000,
    });
    expect(await survivor.drainOnce()).toBe(waiting);
    const books = await journal();
    expect(books).toMatchObject({ events: String(before + waiting), duplicates: '0' });
    expect(BigInt(books.topped_up) - BigInt(books.charged)).toBe(await redisBalanceMicros());
    expect(await streamLength()).toBe(0);
  });

  it('reconciles: Redis and the journal agree, over HTTP, and a wallet changed behind its back is reported', async () => {
    await traffic();
    const backlog = await service.http.ok('GET', '/v1/ledger/backlog');
    expect(backlog.events).toBeGreaterThan(0);
    expect(await service.http.ok('GET', '/v1/ledger/reconciliation')).toEqual({ customers: 1, differences: [] });
    expect(await service.http.ok('GET', '/v1/ledger/backlog'), 'reconciling journals the backlog first').toEqual({ events: 0, oldest_age_ms: 0 });

    await service.redis.hincrby(service.app.keys.wallet('books'), 'balance', 5);
    const report = await service.http.ok('GET', '/v1/ledger/reconciliation');
    const balance = await redisBalanceMicros();
    expect(report.differences).toEqual([{
      customer_id: 'books', in_flight: false,
      redis: { balance_micros: String(balance), held_micros: '0' },
      journal: { balance_micros: String(balance - 5n), held_micros: '0' },
    }]);
    await service.redis.hincrby(service.app.keys.wallet('books'), 'balance', -5);
  });

  it('reconciles held money with the holds the journal granted and released', async () => {
    await service.grpc.ok('Reserve', { session_id: 'books-open', request_number: 1, device_id: 'books-a', items: [{ rating_group: SMS, requested_units: '7' }] });
    expect(await service.http.ok('GET', '/v1/ledger/reconciliation')).toEqual({ customers: 1, differences: [] });
    expect(await service.redis.hget(service.app.keys.wallet('books'), 'held')).toBe('70000');
  });

  it('journals a release that ended a session holding nothing, whose event lists no items', async () => {
    // The script writes that empty list as {}: it must not stop the partition's journal.
    await service.grpc.ok('Release', { session_id: 'books-nothing', request_number: 1, device_id: 'books-a' });
    const waiting = await streamLength();
    expect(await service.app.ledger.drainOnce()).toBe(waiting);
    const { rows } = await service.context.pool.query(`SELECT data->'items' AS items FROM journal_events WHERE session_id = 'books-nothing'`);
    expect(rows).toEqual([{ items: [] }]);
    expect(await service.http.ok('GET', '/v1/ledger/reconciliation')).toEqual({ customers: 1, differences: [] });
  });

  it('npm run ledger -- reconcile prints each difference and exits 1, else 0', async () => {
    const run = async (command: string) => {
      const out: string[] = [];
      const code = await runLedgerCli([command], { out: (text) => out.push(text), err: (text) => out.push(text) }, { IO_HTTP_URL: service.http.baseUrl });
      return { code, out: out.join('\n') };
    };
    expect(await run('reconcile')).toEqual({ code: 0, out: '1 customers compared, 0 differ' });
    await service.redis.hincrby(service.app.keys.wallet('books'), 'held', 1);
    const differing = await run('reconcile');
    expect(differing.code).toBe(1);
    expect(differing.out).toMatch(/^books: Redis balance \d+ held 70001, journal balance \d+ held 70000 \(micros\)\n1 customers compared, 1 differ$/);
    await service.redis.hincrby(service.app.keys.wallet('books'), 'held', -1);
    expect((await run('backlog')).out).toBe('0 events not journaled yet; the oldest is 0 ms old');
  });

  it('reports a backlog past its limit after a pass that found a full batch waiting', async () => {
    await traffic();
    const reported: number[] = [];
    const slow = new LedgerWorker(service.redis, service.app.keys, new Journal(service.context.pool), {
      partitionCount: service.config.partitionCount, intervalMs: 1000, batchMax: 1, claimIdleMs: 30_000, backlogWarnEvents: 2,
    }, undefined, (backlog) => reported.push(backlog.events));
    await slow.drainAndWatch();
    expect(reported).toEqual([4]); // 5 events of one partition; one journaled per pass
    while ((await slow.drainAndWatch()) > 0);
    expect(reported).toEqual([4, 3]);
  });
});

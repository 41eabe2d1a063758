// Redis goes away and comes back. While it is away, charging fails fast with UNAVAILABLE /
// 503 and the code REDIS_UNAVAILABLE, so a gateway can apply its own failure handling; the
// process stays up and keeps answering. Once redis-server is back on the same port, the
// service reconnects by itself and charges again, with the balances Redis kept in its
// append-only file. This file runs its own redis-server, since it kills it.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '../../src/infra/redis-server.js';
import { provisionFleet, ratingGroups, startTestService, type TestService } from '../support/service.js';

const SMS = 2;
/** "Fail fast": well under the 5 s a gateway might wait, and under the 2 s command timeout too. */
const FAIL_FAST_MS = 1500;
/**
 * A Redis that hangs with the connection open is only noticed by the 2 s command timeout, and
 * with auto-pipelining a call waits for the batch already in flight (the expiry sweep's, say)
 * to time out before its own is sent: up to twice the timeout, still under 5 s.
 */
const HUNG_FAIL_MS = 4500;
const RECONNECT_TRIES_MAX = 100;
const RECONNECT_PAUSE_MS = 50;

let service: TestService;
let redisServer: RedisServerHandle;
let directory: string;
const unhandled: unknown[] = [];
const recordUnhandled = (reason: unknown) => unhandled.push(reason);

/** Redis must survive a SIGKILL with what it acknowledged, so the balances are still there after. */
function redisOptions(port?: number) {
  return { directory, appendOnly: true, appendFsync: 'always', ...(port === undefined ? {} : { port }) } as const;
}

beforeAll(async () => {
  process.on('unhandledRejection', recordUnhandled);
  process.on('uncaughtException', recordUnhandled);
  directory = await mkdtemp(join(tmpdir(), 'io-billing-redis-outage-'));
  redisServer = await startRedisServer(redisOptions());
  // The background jobs keep calling Redis throughout the outage: their failures must not take the process down.
  service = await startTestService('redis-outage', { redis: { url: redisServer.url }, environment: { SWEEP_INTERVAL_MS: '50' }, startBackgroundJobs: true });
  await ratingGroups(service, [[SMS, 'events']]);
  await service.app.catalog.loadRatingGroups();
  await provisionFleet(service, {
    customerId: 'outage', devices: ['outage-warm', 'outage-cold'], balance: '10.00',
    tariff: { id: 'cents', rates: [{ rating_group: SMS, price: '0.01', per_units: 1, increment_units: 1 }] },
  });
});

afterAll(async () => {
  await service?.close();
  await redisServer?.stop();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  process.off('unhandledRejection', recordUnhandled);
  process.off('uncaughtException', recordUnhandled);
});

const reserveBody = (sessionId: string, device: string, units = 10) => ({
  session_id: sessionId, request_number: 1, device_id: device, items: [{ rating_group: SMS, requested_units: String(units) }],
});

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; elapsedMs: number }> {
  const started = performance.now();
  const result = await work();
  return { result, elapsedMs: performance.now() - started };
}

const unavailable = { ok: false, error: { code: GrpcStatus.UNAVAILABLE, errorCode: 'REDIS_UNAVAILABLE' } };

describe('a Redis outage', () => {
  it('charges normally before', async () => {
    const answer = await service.grpc.ok('Reserve', reserveBody('before', 'outage-warm'));
    expect(answer.items[0]).toMatchObject({ result: 'RESULT_CODE_SUCCESS', granted_units: '10', reserved_amount: '0.100000' });
  });

  it('fails within the command timeout when Redis hangs with the connection open, and a retry takes effect once', async () => {
    const heldBefore = (await service.grpc.ok('GetBalance', { customer_id: 'outage' })).wallet.held;
    process.kill(redisServer.pid, 'SIGSTOP');
    try {
      const { result, elapsedMs } = await timed(() => service.grpc.call('Reserve', reserveBody('frozen', 'outage-warm')));
      expect(result).toMatchObject(unavailable);
      expect(elapsedMs).toBeLessThan(HUNG_FAIL_MS);
    } finally {
      process.kill(redisServer.pid, 'SIGCONT');
    }
    // Redis may still run the timed-out call once it wakes; the gateway's retry must then get
    // that answer back rather than hold a second time.
    let answer: Awaited<ReturnType<typeof service.grpc.call>> | undefined;
    for (let tries = 0; tries < RECONNECT_TRIES_MAX && !answer?.ok; tries++) {
      if (tries > 0) await sleep(RECONNECT_PAUSE_MS);
      answer = await service.grpc.call('Reserve', reserveBody('frozen', 'outage-warm'));
    }
    expect(answer).toMatchObject({ ok: true, response: { items: [{ granted_units: '10', reserved_amount: '0.100000' }] } });
    expect(heldBefore).toBe('0.100000');
    expect((await service.grpc.ok('GetBalance', { customer_id: 'outage' })).wallet.held).toBe('0.200000');
  });

  it('says a charge answered REDIS_UNAVAILABLE may still be applied, and its retry with the same key gets the applied answer', async () => {
    const charge = { event_id: 'paused-charge', device_id: 'outage-warm', rating_group: SMS, units: '1' };
    const balanceBefore = (await service.grpc.ok('GetBalance', { customer_id: 'outage' })).wallet.balance;
    process.kill(redisServer.pid, 'SIGSTOP');
    let refused: Awaited<ReturnType<typeof service.grpc.call>>;
    try {
      refused = await service.grpc.call('Charge', charge);
    } finally {
      process.kill(redisServer.pid, 'SIGCONT');
    }
    expect(refused).toMatchObject(unavailable);
    expect(refused.ok ? undefined : refused.error.details).toMatch(/outcome unknown: retry with the same key/);
    // Redis runs the call it had already been sent once it wakes: the charge took effect.
    let balance = balanceBefore;
    for (let tries = 0; tries < RECONNECT_TRIES_MAX && balance === balanceBefore; tries++) {
      if (tries > 0) await sleep(RECONNECT_PAUSE_MS);
      const answer = await service.grpc.call('GetBalance', { customer_id: 'outage' });
      if (answer.ok) balance = answer.response.wallet.balance;
    }
    expect(balance, 'the refused charge was applied when Redis resumed').toBe('9.990000');
    const retried = await service.grpc.ok('Charge', charge);
    expect(retried).toMatchObject({ result: 'RESULT_CODE_SUCCESS', charged_amount: '0.010000', charged_units: '1' });
    expect((await service.grpc.ok('GetBalance', { customer_id: 'outage' })).wallet.balance, 'the balance moved once').toBe('9.990000');
  });

  it('fails fast over gRPC with UNAVAILABLE and REDIS_UNAVAILABLE, for a cached device and an uncached one', async () => {
    await redisServer.kill('SIGKILL');

    for (const [name, call] of [
      ['Reserve, device in the cache', () => service.grpc.call('Reserve', reserveBody('during', 'outage-warm'))],
      ['Reserve, device not yet cached', () => service.grpc.call('Reserve', reserveBody('during-cold', 'outage-cold'))],
      ['Commit', () => service.grpc.call('Commit', { ...reserveBody('before', 'outage-warm'), request_number: 2, items: [{ rating_group: SMS, used_units: '5', requested_units: '0' }] })],
      ['Charge', () => service.grpc.call('Charge', { event_id: 'during', device_id: 'outage-warm', rating_group: SMS, units: '1' })],
      ['TopUp', () => service.grpc.call('TopUp', { top_up_id: 'during', customer_id: 'outage', amount: '1.00', currency: 'EUR' })],
      ['GetBalance', () => service.grpc.call('GetBalance', { customer_id: 'outage' })],
    ] as const) {
      const { result, elapsedMs } = await timed(call);
      expect(result, name).toMatchObject(unavailable);
      expect(elapsedMs, name).toBeLessThan(FAIL_FAST_MS);
    }
  });

  it('fails fast over HTTP with 503 and REDIS_UNAVAILABLE, and says so on /healthz', async () => {
    const { result, elapsedMs } = await timed(() => service.http.request('POST', '/v1/charging/reserve', reserveBody('during-http', 'outage-warm')));
    expect(result.status, result.text).toBe(503);
    expect(result.body.error).toMatchObject({ code: 'REDIS_UNAVAILABLE' });
    expect(elapsedMs).toBeLessThan(FAIL_FAST_MS);
    const health = await service.http.request('GET', '/healthz');
    expect(health).toMatchObject({ status: 503, body: { redis: false, postgres: true } });
  });

  it('keeps the process up: both servers answer, nothing was thrown unhandled', async () => {
    expect((await service.http.request('GET', '/v1/customers/outage')).status).toBe(200);
    const refused = await service.grpc.call('Reserve', { ...reserveBody('during', 'outage-warm'), request_number: 0 });
    expect(refused.ok).toBe(false);
    expect(unhandled).toEqual([]);
  });

  it('reconnects by itself once redis-server is back on the same port, and charges again', async () => {
    redisServer = await startRedisServer(redisOptions(redisServer.port));

    let tries = 0;
    let answer: Awaited<ReturnType<typeof service.grpc.call>> | undefined;
    for (; tries < RECONNECT_TRIES_MAX; tries++) {
      // The same request each time: one refused while Redis was away changed nothing.
      answer = await service.grpc.call('Reserve', reserveBody('after', 'outage-cold'));
      if (answer.ok) break;
      expect(answer, `try ${tries}`).toMatchObject(unavailable);
      await sleep(RECONNECT_PAUSE_MS);
    }
    expect(answer?.ok, `not reconnected after ${tries} tries`).toBe(true);
    expect(answer).toMatchObject({ ok: true, response: { result: 'RESULT_CODE_SUCCESS', items: [{ granted_units: '10', reserved_amount: '0.100000' }] } });

    // What Redis acknowledged before the kill is all there: the top-up, the charge and the first two holds.
    const wallet = (await service.grpc.ok('GetBalance', { customer_id: 'outage' })).wallet;
    expect(wallet).toMatchObject({ balance: '9.990000', held: '0.300000' });
    // And so are its idempotency answers: a retry of a request answered before the kill gets the
    // same answer, and holds nothing more.
    const retried = await service.grpc.ok('Reserve', reserveBody('before', 'outage-warm'));
    expect(retried.items[0]).toMatchObject({ result: 'RESULT_CODE_SUCCESS', granted_units: '10', reserved_amount: '0.100000' });
    expect((await service.grpc.ok('GetBalance', { customer_id: 'outage' })).wallet).toEqual(wallet);
    const overHttp = await service.http.request('POST', '/v1/charging/reserve', reserveBody('after-http', 'outage-warm'));
    expect(overHttp.status, overHttp.text).toBe(200);
    expect((await service.http.request('GET', '/healthz')).status).toBe(200);
    expect(unhandled).toEqual([]);
  });
});

// Exactly once: replayed, reordered, concurrent and conflicting requests. A retry has no
// further effect and gets the first answer back, byte for byte; another payload under the same
// identity is refused and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectConserved, readLedger } from '../support/conservation.js';
import { provisionFleet, ratingGroups, startTestService, type TestService } from '../support/service.js';

let service: TestService;
const SMS = 2;

beforeAll(async () => {
  service = await startTestService('idempotency', { environment: { SESSION_ANSWERS_MAX: '8' } });
  await ratingGroups(service, [[SMS, 'events']]);
  await service.app.catalog.loadRatingGroups();
  await provisionFleet(service, {
    customerId: 'idem', devices: ['idem-a', 'idem-b'], balance: '100.00',
    tariff: { id: 'cents', rates: [{ rating_group: SMS, price: '0.01', per_units: 1, increment_units: 1 }] },
  });
});
afterAll(() => service?.close());

const commitBody = (session: string, requestNumber: number, used: number, requested = 10, device = 'idem-a') => ({
  session_id: session, request_number: requestNumber, device_id: device, items: [{ rating_group: SMS, used_units: String(used), requested_units: String(requested) }],
});

async function walletAndEvents() {
  const ledger = await readLedger(service, 'idem');
  return { balance: ledger.balanceMicros, held: ledger.heldMicros, events: ledger.events.length };
}

describe('retries', () => {
  it('answers a retried reserve with the first answer, byte for byte, and holds once', async () => {
    const body = { session_id: 'retry-1', request_number: 1, device_id: 'idem-a', items: [{ rating_group: SMS, requested_units: '10' }] };
    const first = await service.http.request('POST', '/v1/charging/reserve', body);
    const before = await walletAndEvents();
    const again = await service.http.request('POST', '/v1/charging/reserve', body);
    const viaGrpc = await service.grpc.ok('Reserve', body);
    expect(again.text).toBe(first.text);
    expect(viaGrpc).toEqual(first.body);
    expect(await walletAndEvents()).toEqual(before);
  });

  it('answers an old request of a session that moved on with that request\'s own answer', async () => {
    await service.grpc.ok('Reserve', { session_id: 'retry-2', request_number: 1, device_id: 'idem-a', items: [{ rating_group: SMS, requested_units: '10' }] });
    const second = await service.grpc.ok('Commit', commitBody('retry-2', 2, 7));
    await service.grpc.ok('Commit', commitBody('retry-2', 3, 5));
    const before = await walletAndEvents();
    expect(await service.grpc.ok('Commit', commitBody('retry-2', 2, 7))).toEqual(second);
    expect(await walletAndEvents()).toEqual(before);
    await expectConserved(service, 'idem');
  });

  it('applies each of many concurrent copies of one commit once', async () => {
    await service.grpc.ok('Reserve', { session_id: 'storm', request_number: 1, device_id: 'idem-a', items: [{ rating_group: SMS, requested_units: '10' }] });
    const before = await walletAndEvents();
    const answers = await Promise.all(Array.from({ length: 50 }, () => service.grpc.ok('Commit', commitBody('storm', 2, 3, 0))));
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    const after = await walletAndEvents();
    expect(before.balance - after.balance).toBe(30_000n);
    expect(after.events - before.events).toBe(1);
  });

  it('answers retried one-shot charges and top-ups once', async () => {
    const charge = { event_id: 'sms-1', device_id: 'idem-b', rating_group: SMS, units: '3' };
    const topUp = { top_up_id: 'top-1', customer_id: 'idem', amount: '1.00', currency: 'EUR' };
    const firstCharge = await service.grpc.ok('Charge', charge);
    const firstTopUp = await service.grpc.ok('TopUp', topUp);
    const before = await walletAndEvents();
    expect(await service.grpc.ok('Charge', charge)).toEqual(firstCharge);
    expect(await service.grpc.ok('TopUp', topUp)).toEqual(firstTopUp);
    expect(await walletAndEvents()).toEqual(before);
    expect(firstCharge.charged_amount).toBe('0.030000');
  });

  it('keeps the answers at least the configured time after the session ended', async () => {
    await service.grpc.ok('Reserve', { session_id: 'kept', request_number: 1, device_id: 'idem-a', items: [{ rating_group: SMS, requested_units: '10' }] });
    const end = await service.grpc.ok('Commit', { ...commitBody('kept', 2, 1, 0), final: true });
    const answersKey = service.app.keys.sessionAnswers('idem', 'idem-a', 'kept');
    expect(await service.redis.ttl(answersKey)).toBeGreaterThanOrEqual(86_400 - 5);
    expect(await service.grpc.ok('Commit', { ...commitBody('kept', 2, 1, 0), final: true })).toEqual(end);
  });
});

describe('reordering', () => {
  it('applies two reports that arrive out of order once each', async () => {
    await service.grpc.ok('Reserve', { session_id: 'order', request_number: 1, device_id: 'idem-a', items: [{ rating_group: SMS, requested_units: '20' }] });
    const before = await walletAndEvents();
    await service.grpc.ok('Commit', commitBody('order', 3, 4));
    await service.grpc.ok('Commit', commitBody('order', 2, 6));
    await service.grpc.ok('Commit', commitBody('order', 3, 4));
    const after = await walletAndEvents();
    expect(before.balance - after.balance).toBe(100_000n);
    await expectConserved(service, 'idem');
  });

  it('charges a report reordered behind the final commit, and grants nothing on the ended session', async () => {
    await service.grpc.ok('Reserve', { session_id: 'ended', request_number: 1, device_id: 'idem-a', items: [{ rating_group: SMS, requested_units: '20' }] });
    await service.grpc.ok('Commit', { ...commitBody('ended', 3, 4, 0), final: true });
    const before = await walletAndEvents();
    const late = await service.grpc.ok('Commit', commitBody('ended', 2, 6, 5_000_000));
    expect(late.items[0]).toMatchObject({ result: 'RESULT_CODE_SERVICE_DENIED', charged_units: '6', granted_units: '0' });
    const after = await walletAndEvents();
    expect({ charged: before.balance - after.balance, held: after.held - before.held }).toEqual({ charged: 60_000n, held: 0n });
    await expectConserved(service, 'idem');
  });

  it('refuses a request number older than the answers it keeps, rather than apply it twice', async () => {
    await service.grpc.ok('Reserve', { session_id: 'long', request_number: 1, device_id: 'idem-a', items: [{ rating_group: SMS, requested_units: '1' }] });
    for (let number = 2; number <= 12; number++) await service.grpc.ok('Commit', commitBody('long', number, 1, 1));
    const before = await walletAndEvents();
    const old = await service.grpc.call('Commit', commitBody('long', 2, 1, 1));
    expect(old.ok ? undefined : old.error).toMatchObject({ code: 9, errorCode: 'REQUEST_NUMBER_TOO_OLD', field: 'request_number' });
    expect(await service.grpc.ok('Commit', commitBody('long', 12, 1, 1))).toMatchObject({ request_number: 12 });
    expect(await walletAndEvents()).toEqual(before);
  });
  it('keeps at most SESSION_ANSWERS_MAX answers when a gateway jumps ahead in its numbering', async () => {
    await service.grpc.ok('Reserve', { session_id: 'jump', request_number: 1, device_id: 'idem-a', items: [{ rating_group: SMS, requested_units: '1' }] });
    const numbers = [2, 3, 4, 5, 100, 101, 102, 103, 104, 105, 106, 107, 108];
    for (const number of numbers) await service.grpc.ok('Commit', commitBody('jump', number, 1, 1));
    const answersKey = service.app.keys.sessionAnswers('idem', 'idem-a', 'jump');
    expect(await service.redis.hlen(answersKey)).toBe(8 + 1); // the newest 8 answers and the floor
    for (const number of [5, 100]) {
      const old = await service.grpc.call('Commit', commitBody('jump', number, 1, 1));
      expect(old.ok ? undefined : old.error, `request ${number}`).toMatchObject({ errorCode: 'REQUEST_NUMBER_TOO_OLD' });
    }
    expect(await service.grpc.ok('Commit', commitBody('jump', 101, 1, 1))).toMatchObject({ request_number: 101 });
  });
});

describe('conflicts', () => {
  it.each([
    ['a different used amount', commitBody('conflict', 2, 9)],
    ['a final flag', { ...commitBody('conflict', 2, 4), final: true }],
  ])('refuses a replay with %s and changes nothing', async (_name, replay) => {
    if (!(await service.redis.exists(service.app.keys.sessionAnswers('idem', 'idem-a', 'conflict')))) {
      await service.grpc.ok('Reserve', { session_id: 'conflict', request_number: 1, device_id: 'idem-a', items: [{ rating_group: SMS, requested_units: '10' }] });
      await service.grpc.ok('Commit', commitBody('conflict', 2, 4));
    }
    const before = await walletAndEvents();
    const grpcAnswer = await service.grpc.call('Commit', replay);
    const httpAnswer = await service.http.request('POST', '/v1/charging/commit', replay);
    expect(grpcAnswer.ok ? undefined : grpcAnswer.error).toMatchObject({ code: 6, errorCode: 'IDEMPOTENCY_CONFLICT', field: 'request_number' });
    expect(httpAnswer.status).toBe(409);
    expect(httpAnswer.body.error).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', field: 'request_number' });
    expect(await walletAndEvents()).toEqual(before);
  });

  it('refuses a one-shot charge or a top-up replayed with another payload', async () => {
    await service.grpc.ok('Charge', { event_id: 'sms-conflict', device_id: 'idem-b', rating_group: SMS, units: '1' });
    await service.grpc.ok('TopUp', { top_up_id: 'top-conflict', customer_id: 'idem', amount: '1.00', currency: 'EUR' });
    const before = await walletAndEvents();
    const charge = await service.grpc.call('Charge', { event_id: 'sms-conflict', device_id: 'idem-b', rating_group: SMS, units: '2' });
    const topUp = await service.grpc.call('TopUp', { top_up_id: 'top-conflict', customer_id: 'idem', amount: '2.00', currency: 'EUR' });
    expect(charge.ok ? undefined : charge.error).toMatchObject({ code: 6, errorCode: 'IDEMPOTENCY_CONFLICT', field: 'event_id' });
    expect(topUp.ok ? undefined : topUp.error).toMatchObject({ code: 6, errorCode: 'IDEMPOTENCY_CONFLICT', field: 'top_up_id' });
    expect(await walletAndEvents()).toEqual(before);
  });

});

describe('the scope of idempotency keys', () => {
  /** A customer whose keys share the partition (and so the hash tag) of `idem`. */
  let twin: string;
  const TWIN_CANDIDATES_MAX = 10_000;

  beforeAll(async () => {
    const partition = service.app.keys.partitionOf('idem');
    for (let index = 0; index < TWIN_CANDIDATES_MAX && twin === undefined; index++) {
      if (service.app.keys.partitionOf(`twin-${index}`) === partition) twin = `twin-${index}`;
    }
    await provisionFleet(service, { customerId: twin, devices: [`${twin}-a`], balance: '50.00', tariff: { id: 'cents', rates: [{ rating_group: SMS, price: '0.01', per_units: 1, increment_units: 1 }] } });
  });

  const twinCalls = [
    ['a top-up id', 'TopUp', (customer: string, _device: string) => ({ top_up_id: 'shared-top-up', customer_id: customer, amount: customer === 'idem' ? '1.00' : '2.00', currency: 'EUR' })],
    ['an event id', 'Charge', (_customer: string, device: string) => ({ event_id: 'shared-event', device_id: device, rating_group: SMS, units: device === 'idem-a' ? '1' : '2' })],
    ['a session id', 'Reserve', (_customer: string, device: string) => ({ session_id: 'shared-session', request_number: 1, device_id: device, items: [{ rating_group: SMS, requested_units: device === 'idem-a' ? '10' : '20' }] })],
  ] as const;

  it.each(twinCalls)('takes %s another customer of the same partition used as a key of its own', async (_key, method, body) => {
    const first = await service.grpc.ok(method, body('idem', 'idem-a'));
    const before = await readLedger(service, twin);
    const other = await service.grpc.call(method, body(twin, `${twin}-a`));
    expect(other.ok ? 'accepted' : other.error, "the other customer's request").toBe('accepted');
    const after = await readLedger(service, twin);
    expect(after.events.length - before.events.length, 'applied to the other customer').toBe(1);
    expect(await service.grpc.ok(method, body('idem', 'idem-a')), 'the first answer is kept').toEqual(first);
    await expectConserved(service, twin);
  });

  it("treats a session id another device of the customer uses as that device's own, leaving the first untouched", async () => {
    await service.grpc.ok('Reserve', { session_id: 'owned', request_number: 1, device_id: 'idem-a', items: [{ rating_group: SMS, requested_units: '10' }] });
    const firstSession = await service.redis.hgetall(service.app.keys.session('idem', 'idem-a', 'owned'));
    const other = await service.grpc.ok('Commit', commitBody('owned', 2, 5, 10, 'idem-b'));
    expect(other.items[0]).toMatchObject({ charged_units: '5', granted_units: '10' });
    expect(await service.redis.hgetall(service.app.keys.session('idem', 'idem-a', 'owned'))).toEqual(firstSession);
    await expectConserved(service, 'idem');
  });

  it('journals what both customers did under the same keys', async () => {
    expect(await service.http.ok('GET', '/v1/ledger/reconciliation')).toMatchObject({ differences: [] });
    const { rows } = await service.context.pool.query<{ customer_id: string }>(
      "SELECT customer_id FROM journal_events WHERE event_id = 'shared-top-up' ORDER BY customer_id");
    expect(rows.map((row) => row.customer_id)).toEqual(['idem', twin].sort());
    const { keys } = service.app;
    const named = [keys.topUpAnswer(twin, 'shared-top-up'), keys.chargeAnswer(twin, 'shared-event'), keys.sessionAnswers(twin, `${twin}-a`, 'shared-session'), keys.session(twin, `${twin}-a`, 'shared-session')];
    expect(await Promise.all(named.map((key) => service.redis.exists(key))), 'the scripts name the keys as KeySpace does').toEqual([1, 1, 1, 1]);
  });
});

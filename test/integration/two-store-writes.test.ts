// Writes that touch both PostgreSQL and Redis are all or nothing: a payment or a credit note
// whose wallet top-up Redis refuses leaves no row behind, and a failure injected between the two
// stores (a crash after Redis applied the top-up, or Redis unreachable) is finished by the
// finisher into both, the money entering the wallet exactly once. Provisioning committed to
// PostgreSQL while Redis was down is projected by the repair.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorrectionService } from '../../src/billing/corrections.js';
import { AppError } from '../../src/errors.js';
import { PaymentService } from '../../src/billing/payments.js';
import type { TopUps } from '../../src/billing/pending-top-ups.js';
import { Projection } from '../../src/balance/projection.js';
import { ProvisioningService } from '../../src/provisioning/provisioning-service.js';
import { provisionFleet, ratingGroups, startTestService, type TestService } from '../support/service.js';

let service: TestService;
const SMS = 2;
const TARIFF = { id: 'per-event', rates: [{ rating_group: SMS, price: '1.00' }] };
const CUSTOMERS = ['refused', 'crash', 'outage', 'parallel', 'note-refused', 'note-crash', 'note-outage'] as const;
type Customer = typeof CUSTOMERS[number];
const invoiceOf = new Map<Customer, string>();

beforeAll(async () => {
  service = await startTestService('two-store-writes');
  await ratingGroups(service, [[SMS, 'events']]);
  await service.app.catalog.loadRatingGroups();
  for (const customer of CUSTOMERS) {
    await provisionFleet(service, { customerId: customer, devices: [`${customer}-dev`], tariff: TARIFF });
    await putPostpaid(customer, '100.00');
    for (let index = 0; index < 3; index++) await service.grpc.ok('Charge', { event_id: `${customer}-sms-${index}`, device_id: `${customer}-dev`, rating_group: SMS, units: '1' });
  }
  await service.app.ledger.drainOnce();
  await service.http.ok('POST', '/v1/billing/runs', { as_of: '2026-12-01T06:00:00Z' });
  for (const customer of CUSTOMERS) {
    const invoices = (await service.http.ok('GET', `/v1/customers/${customer}/invoices`)).items as { id: string }[];
    expect(invoices).toHaveLength(1);
    invoiceOf.set(customer, invoices[0]!.id);
  }
});
afterAll(() => service?.close());

function putPostpaid(customer: string, creditLimit: string) {
  return service.http.ok('PUT', `/v1/customers/${customer}`, {
    name: customer, currency: 'EUR', time_zone: 'UTC', tariff_id: TARIFF.id, credit_limit: creditLimit, billing_mode: 'postpaid', payment_terms_days: 14,
  });
}

async function walletBalance(customer: string): Promise<string> {
  return (await service.grpc.ok('GetBalance', { customer_id: customer })).wallet.balance as string;
}

/** Everything PostgreSQL holds of a customer's payments, to compare before and after. */
async function billingState(customer: Customer) {
  const count = async (sql: string) => Number((await service.context.pool.query<{ count: string }>(sql, [customer])).rows[0]!.count);
  const invoice = await service.http.ok('GET', `/v1/invoices/${invoiceOf.get(customer)}`);
  return {
    payments: await count('SELECT count(*) AS count FROM payments WHERE customer_id = $1'),
    allocations: await count('SELECT count(*) AS count FROM payment_allocations a JOIN payments p ON p.id = a.payment_id WHERE p.customer_id = $1'),
    creditNotes: await count('SELECT count(*) AS count FROM credit_notes n JOIN invoices i ON i.id = n.invoice_id WHERE i.customer_id = $1'),
    pending: await count('SELECT count(*) AS count FROM pending_top_ups WHERE customer_id = $1'),
    invoiceStatus: invoice.status as string,
    receivables: await service.http.ok('GET', `/v1/customers/${customer}/receivables`),
  };
}

/** The real top-up, then a failure before PostgreSQL commits: a crash between the two stores. */
const crashAfterRedis: TopUps = {
  topUp: async (message) => {
    await service.app.charging.topUp(message);
    throw new Error('injected: the process died after Redis applied the top-up');
  },
};
/** Redis unreachable: the failure comes before the wallet is touched. */
const redisDown: TopUps = { topUp: () => Promise.reject(new Error('injected: Redis is unreachable')) };

describe('a payment', () => {
  it('refused with BALANCE_LIMIT leaves no payment, no allocation, the invoice unpaid and receivables unchanged; the same retry works once the cause is gone', async () => {
    const before = await billingState('refused');
    const walletBefore = await walletBalance('refused');
    // -3.00 + 100.00 of credit + this passes 2^53-1 micros, the most a wallet can hold.
    const payment = { payment_id: 'pay-huge', customer_id: 'refused', invoice_id: invoiceOf.get('refused'), amount: '9007199200.00', currency: 'EUR', method: 'transfer' };
    for (const attempt of ['first', 'retry']) {
      const refused = await service.http.request('POST', '/v1/payments', payment);
      expect(refused.status, attempt).toBe(422);
      expect(refused.body.error).toMatchObject({ code: 'BALANCE_LIMIT', field: 'amount' });
      expect(await billingState('refused'), attempt).toEqual(before);
      expect(await walletBalance('refused')).toBe(walletBefore);
    }
    expect(before).toMatchObject({ payments: 0, allocations: 0, pending: 0, invoiceStatus: 'issued', receivables: { outstanding: '3.000000', credit: '0.000000' } });

    await putPostpaid('refused', '0.00');
    const recorded = await service.http.ok('POST', '/v1/payments', payment);
    expect(recorded).toMatchObject({ recorded: true, receivables: { outstanding: '-9007199197.000000', credit: '9007199197.000000' } });
    expect(await billingState('refused')).toMatchObject({ payments: 1, allocations: 1, pending: 0, invoiceStatus: 'paid' });
    expect(await walletBalance('refused')).toBe('9007199197.000000');
  });

  it('crashing after Redis applied its top-up is finished into both stores, the money counted once', async () => {
    const payment = { payment_id: 'pay-crash', customer_id: 'crash', invoice_id: invoiceOf.get('crash'), amount: '3.00', currency: 'EUR', method: 'card' };
    const crashing = new PaymentService(service.context.pool, crashAfterRedis, service.clock);
    await expect(crashing.record(payment)).rejects.toThrow(/injected/);
    expect(await billingState('crash'), 'PostgreSQL rolled back; the request waits').toMatchObject({ payments: 0, allocations: 0, pending: 1, invoiceStatus: 'issued' });
    expect(await walletBalance('crash'), 'Redis applied it').toBe('0.000000');

    expect(await service.app.finisher.finishDue()).toEqual({ settled: 1, refused: 0, stale: 0 });
    expect(await billingState('crash')).toMatchObject({ payments: 1, allocations: 1, pending: 0, invoiceStatus: 'paid', receivables: { outstanding: '0.000000' } });
    expect(await walletBalance('crash'), 'the repeated top-up got the first answer').toBe('0.000000');
    expect(await service.http.ok('POST', '/v1/payments', payment), 'the caller retrying changes nothing').toMatchObject({ recorded: false });
    expect(await walletBalance('crash')).toBe('0.000000');
  });

  it('answered with Redis unreachable stays pending, touches neither store, and is finished once Redis answers', async () => {
    const payment = { payment_id: 'pay-outage', customer_id: 'outage', amount: '5.00', currency: 'EUR', method: 'card' };
    await expect(new PaymentService(service.context.pool, redisDown, service.clock).record(payment)).rejects.toThrow(/injected/);
    expect(await billingState('outage')).toMatchObject({ payments: 0, allocations: 0, pending: 1, invoiceStatus: 'issued' });
    expect(await walletBalance('outage')).toBe('-3.000000');
    const conflicting = await service.http.request('POST', '/v1/payments', { ...payment, amount: '6.00' });
    expect(conflicting.body.error, 'a pending payment holds its id').toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', field: 'payment_id' });

    expect(await service.app.finisher.finishDue()).toEqual({ settled: 1, refused: 0, stale: 0 });
    expect(await billingState('outage')).toMatchObject({ payments: 1, allocations: 1, pending: 0, invoiceStatus: 'paid', receivables: { credit: '2.000000' } });
    expect(await walletBalance('outage')).toBe('2.000000');
  });

  it('sent many times at once, with the finisher running too, is recorded once and tops up the wallet once', async () => {
    const payment = { payment_id: 'pay-parallel', customer_id: 'parallel', invoice_id: invoiceOf.get('parallel'), amount: '10.00', currency: 'EUR', method: 'card' };
    const [answers] = await Promise.all([
      Promise.all(Array.from({ length: 8 }, () => service.http.ok('POST', '/v1/payments', payment))),
      service.app.finisher.finishDue(),
    ]);
    expect(answers.filter((answer: { recorded: boolean }) => answer.recorded)).toHaveLength(1);
    expect(await billingState('parallel')).toMatchObject({ payments: 1, allocations: 1, pending: 0, invoiceStatus: 'paid', receivables: { credit: '7.000000' } });
    expect(await walletBalance('parallel')).toBe('7.000000');
  });
});

describe('a credit note', () => {
  it('refused with BALANCE_LIMIT leaves no note, no payment, no allocation and takes no number', async () => {
    // Fill the wallet so that what a wallet can hold has less room left than the note.
    await service.http.ok('POST', '/v1/top-ups', { top_up_id: 'fill-note-refused', customer_id: 'note-refused', amount: '9007199157.00', currency: 'EUR' });
    const before = await billingState('note-refused');
    const walletBefore = await walletBalance('note-refused');
    const invoiceId = invoiceOf.get('note-refused')!;
    const refused = await service.http.request('POST', `/v1/invoices/${invoiceId}/credit-notes`, { request_id: 'cn-refused', amount: '1.00', reason: 'goodwill' });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'BALANCE_LIMIT' });
    expect(await billingState('note-refused')).toEqual(before);
    expect(before).toMatchObject({ payments: 0, creditNotes: 0, pending: 0, invoiceStatus: 'issued' });
    expect(await walletBalance('note-refused')).toBe(walletBefore);

    const smaller = await service.http.ok('POST', `/v1/invoices/${invoiceId}/credit-notes`, { request_id: 'cn-refused', amount: '0.50', reason: 'goodwill' });
    expect(smaller, 'the refused request left nothing to conflict with').toMatchObject({ amount: '0.500000' });
    expect(await billingState('note-refused')).toMatchObject({ payments: 1, allocations: 1, creditNotes: 1, pending: 0, receivables: { outstanding: '2.500000' } });
  });

  it.each([
    ['crashing after Redis applied its top-up', 'note-crash', crashAfterRedis, '0.000000'],
    ['answered with Redis unreachable', 'note-outage', redisDown, '-3.000000'],
  ] as const)('%s is finished into both stores, the money counted once', async (_name, customer, topUps, walletWhilePending) => {
    const invoiceId = invoiceOf.get(customer)!;
    const note = { request_id: `cn-${customer}`, amount: '3.00', reason: 'goodwill' };
    await expect(new CorrectionService(service.context.pool, topUps, service.clock).creditNote(invoiceId, note)).rejects.toThrow(/injected/);
    expect(await billingState(customer)).toMatchObject({ payments: 0, allocations: 0, creditNotes: 0, pending: 1, invoiceStatus: 'issued' });
    expect(await walletBalance(customer)).toBe(walletWhilePending);
    const overCredit = await service.http.request('POST', `/v1/invoices/${invoiceId}/credit-notes`, { request_id: 'cn-more', amount: '0.01', reason: 'more' });
    expect(overCredit.body.error, 'a pending note counts against the invoice').toMatchObject({ code: 'INVALID_ARGUMENT', field: 'amount' });

    expect(await service.app.finisher.finishDue()).toEqual({ settled: 1, refused: 0, stale: 0 });
    expect(await billingState(customer)).toMatchObject({ payments: 1, allocations: 1, creditNotes: 1, pending: 0, invoiceStatus: 'paid' });
    expect(await walletBalance(customer)).toBe('0.000000');
    const retried = await service.http.ok('POST', `/v1/invoices/${invoiceId}/credit-notes`, note);
    expect(retried, 'the caller retrying gets the note the finisher issued').toMatchObject({ invoice_id: invoiceId, amount: '3.000000' });
    expect(await walletBalance(customer)).toBe('0.000000');
  });
});

describe('an answer that does not say whether Redis applied the top-up', () => {
  it('REDIS_UNAVAILABLE leaves the payment pending for the finisher, not dropped as a refusal', async () => {
    const unknown: TopUps = { topUp: () => Promise.reject(new AppError('REDIS_UNAVAILABLE', 'Redis is unavailable')) };
    const payment = { payment_id: 'pay-unknown', customer_id: 'outage', amount: '0.50', currency: 'EUR', method: 'card' };
    const before = await billingState('outage');
    await expect(new PaymentService(service.context.pool, unknown, service.clock).record(payment)).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' });
    expect(await billingState('outage')).toMatchObject({ payments: before.payments, pending: before.pending + 1 });
    await service.app.finisher.finishDue();
    expect(await billingState('outage')).toMatchObject({ payments: before.payments + 1, pending: before.pending });
  });
});

describe('ids that become top-up ids with a prefix', () => {
  it.each([
    ['a payment_id of 121 characters', '/v1/payments', { payment_id: 'p'.repeat(121), customer_id: 'outage', amount: '1.00', currency: 'EUR', method: 'card' }, 'payment_id'],
    ['a request_id of 109 characters', 'credit-note', { request_id: 'r'.repeat(109), amount: '1.00', reason: 'goodwill' }, 'request_id'],
  ])('%s is refused naming it, and nothing is recorded', async (_name, route, body, field) => {
    const before = await billingState('outage');
    const path = route === 'credit-note' ? `/v1/invoices/${invoiceOf.get('outage')}/credit-notes` : route;
    const refused = await service.http.request('POST', path, body);
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', field });
    expect(await billingState('outage')).toEqual(before);
  });
});

/** Redis down for every projection: PostgreSQL commits, Redis never hears of it. */
class RedisDownProjection extends Projection {
  override customer(): Promise<void> {
    return Promise.reject(new Error('injected: Redis is unreachable'));
  }

  override device(): Promise<void> {
    return Promise.reject(new Error('injected: Redis is unreachable'));
  }
}

describe('provisioning committed to PostgreSQL while Redis is down', () => {
  const marks = async () => Number((await service.context.pool.query<{ count: string }>('SELECT count(*) AS count FROM pending_projections')).rows[0]!.count);
  const withRedisDown = () => new ProvisioningService(service.context.pool, new RedisDownProjection(service.redis, service.app.keys), { allowancesPerRatingGroupMax: 16 }, service.clock);

  it('is projected by the repair: a new customer gets its wallet, a suspended device is suspended', async () => {
    expect(await marks(), 'every projection so far finished').toBe(0);
    await expect(withRedisDown().putCustomer('late-wallet', { name: 'late', currency: 'EUR', time_zone: 'UTC', credit_limit: '7.00' })).rejects.toThrow(/injected/);
    await expect(withRedisDown().setDeviceStatus('crash-dev', 'suspended')).rejects.toThrow(/injected/);
    expect((await service.http.ok('GET', '/v1/customers/late-wallet')).credit_limit, 'PostgreSQL has it').toBe('7.000000');
    const missing = await service.grpc.call('GetBalance', { customer_id: 'late-wallet' });
    expect(missing.ok ? 'found' : missing.error.errorCode, 'Redis does not').toBe('NOT_FOUND');
    expect(await service.redis.hget(service.app.keys.device('crash', 'crash-dev'), 'status')).toBe('active');
    expect(await marks()).toBe(2);

    expect(await service.app.projectionRepair.repairDue()).toBe(2);
    expect((await service.grpc.ok('GetBalance', { customer_id: 'late-wallet' })).wallet).toMatchObject({ balance: '0.000000', available: '7.000000' });
    expect(await service.redis.hget(service.app.keys.device('crash', 'crash-dev'), 'status')).toBe('suspended');
    expect(await marks()).toBe(0);
    expect(await service.app.projectionRepair.repairDue(), 'nothing left to repair').toBe(0);
  });
});

// Billing runs invoice each postpaid customer's closed period once, from the journal: usage per
// rating group, tax per line rounded half-even then added up, totals that are the sum of the
// lines, numbers without gaps per year, and nothing twice when a run is repeated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBillingCli } from '../../scripts/billing.js';
import { provisionFleet, ratingGroups, startTestService, type TestService } from '../support/service.js';

let service: TestService;
const DATA = 1;
const SMS = 2;
const TARIFF = { id: 'postpaid-tariff', rates: [{ rating_group: DATA, price: '1.00', per_units: 1_000_000, increment_units: 1000 }, { rating_group: SMS, price: '0.01' }] };

beforeAll(async () => {
  service = await startTestService('billing-run');
  await ratingGroups(service, [[DATA, 'bytes'], [SMS, 'events']]);
  await service.app.catalog.loadRatingGroups();
  for (const customer of ['acme', 'zenith', 'prepaid']) {
    await provisionFleet(service, { customerId: customer, devices: [`${customer}-dev`], timeZone: 'Europe/Paris', ...(customer === 'acme' ? { tariff: TARIFF } : {}) });
    await service.http.ok('PUT', `/v1/customers/${customer}`, {
      name: customer, currency: 'EUR', time_zone: 'Europe/Paris', tariff_id: 'postpaid-tariff', credit_limit: '100.00',
      billing_mode: customer === 'prepaid' ? 'prepaid' : 'postpaid', payment_terms_days: 14, tax_rates: [{ name: 'VAT', percent: '20' }],
    });
  }
});
afterAll(() => service?.close());

let sessions = 0;
async function spend(customer: string, bytes: number, sms: number): Promise<void> {
  const device = `${customer}-dev`;
  const session = `${customer}-${++sessions}`;
  await service.grpc.ok('Reserve', { session_id: session, request_number: 1, device_id: device, items: [{ rating_group: DATA, requested_units: String(bytes) }] });
  await service.grpc.ok('Commit', { session_id: session, request_number: 2, device_id: device, final: true, items: [{ rating_group: DATA, used_units: String(bytes) }] });
  for (let index = 0; index < sms; index++) await service.grpc.ok('Charge', { event_id: `${session}-sms-${index}`, device_id: device, rating_group: SMS, units: '1' });
}

describe('a billing run', () => {
  it("invoices each postpaid customer's closed period once, with tax per line and totals equal to the lines", async () => {
    await spend('acme', 2_000_000, 5);
    await spend('zenith', 333_000, 7);
    await spend('prepaid', 1_000_000, 1);
    // Postpaid usage runs the balance below zero, within the credit limit.
    expect((await service.grpc.ok('GetBalance', { customer_id: 'acme' })).wallet).toMatchObject({ balance: '-2.050000', available: '97.950000' });
    await service.app.ledger.drainOnce();

    const asOf = '2026-12-01T06:00:00Z';
    const run = await service.http.ok('POST', '/v1/billing/runs', { as_of: asOf });
    expect(run).toEqual({ as_of: '2026-12-01T06:00:00.000Z', invoiced: ['INV-2026-000001', 'INV-2026-000002'], drafts: [], already_invoiced: 0, nothing_to_invoice: 0 });
    // Again from the command line: nothing twice.
    const out: string[] = [];
    const cli = { out: (text: string) => out.push(text), err: (text: string) => out.push(text) };
    expect(await runBillingCli(['run', '--as-of', asOf], cli, { IO_HTTP_URL: service.http.baseUrl })).toBe(0);
    expect(out).toEqual(['billing run as of 2026-12-01T06:00:00.000Z: 0 invoices made, 0 drafts, 2 already invoiced, 0 with nothing to invoice']);
    expect(await runBillingCli(['run', '--as-of', 'tomorrow'], cli, { IO_HTTP_URL: service.http.baseUrl }), 'a bad instant, refused by the service').toBe(1);
    expect(out[1]).toMatch(/^\/v1\/billing\/runs: 400 .*as_of/);
    expect(await runBillingCli(['invoice'], cli, { IO_HTTP_URL: service.http.baseUrl })).toBe(2);

    const invoice = await service.http.ok('GET', '/v1/invoices/INV-2026-000001');
    expect(invoice).toEqual({
      id: 'INV-2026-000001', customer_id: 'acme', period_start: '2026-11-01', period_end: '2026-12-01', currency: 'EUR', status: 'issued',
      subtotal: '2.050000', tax: '0.410000', total: '2.460000', issued_at: '2026-12-01T06:00:00.000Z', due_at: '2026-12-15T06:00:00.000Z',
      credit_notes: [],
      lines: [
        { position: 1, kind: 'usage', description: 'rating group 1', device_id: null, rating_group: DATA, zone: null, units: '2000000', amount: '2.000000' },
        { position: 2, kind: 'usage', description: 'rating group 2', device_id: null, rating_group: SMS, zone: null, units: '5', amount: '0.050000' },
        { position: 3, kind: 'tax', description: 'VAT 20%', device_id: null, rating_group: null, zone: null, units: null, amount: '0.410000' },
      ],
    });
    // 0.333 + 0.07: each line's 20 % rounds half-even on its own (0.0666 and 0.014).
    expect(await service.http.ok('GET', '/v1/invoices/INV-2026-000002')).toMatchObject({ customer_id: 'zenith', subtotal: '0.403000', tax: '0.080600', total: '0.483600' });
    expect((await service.http.ok('GET', '/v1/customers/prepaid/invoices')).items, 'a prepaid customer gets statements, not invoices').toEqual([]);
    expect((await service.http.ok('GET', '/v1/customers/acme/invoices')).items.map((item: { id: string }) => item.id)).toEqual(['INV-2026-000001']);
  });

  it('records payments once: partial, then over, leaving credit that pays the next invoice', async () => {
    const pay = (paymentId: string, amount: string) => service.http.ok('POST', '/v1/payments', {
      payment_id: paymentId, customer_id: 'acme', invoice_id: 'INV-2026-000001', amount, currency: 'EUR', method: 'transfer', reference: `ref-${paymentId}`,
    });
    const partial = await pay('pay-1', '1.00');
    expect(partial.receivables).toMatchObject({ outstanding: '1.460000', credit: '0.000000', aging: { current: '1.460000' }, invoices: [{ invoice_id: 'INV-2026-000001', owed: '1.460000', overdue: false }] });
    const over = await pay('pay-2', '2.00');
    expect(over.receivables).toMatchObject({ outstanding: '-0.540000', credit: '0.540000', invoices: [] });
    expect((await service.http.ok('GET', '/v1/invoices/INV-2026-000001')).status).toBe('paid');
    // The payments went into the wallet: usage 2.05 is paid back with 3.00.
    expect((await service.grpc.ok('GetBalance', { customer_id: 'acme' })).wallet.balance).toBe('0.950000');

    expect(await pay('pay-2', '2.00'), 'a retry changes nothing').toMatchObject({ recorded: false, receivables: over.receivables });
    expect((await service.grpc.ok('GetBalance', { customer_id: 'acme' })).wallet.balance).toBe('0.950000');
    const conflicting = await service.http.request('POST', '/v1/payments', { payment_id: 'pay-2', customer_id: 'acme', amount: '2.50', currency: 'EUR', method: 'transfer' });
    expect(conflicting.status).toBe(409);
    expect(conflicting.body.error).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', field: 'payment_id' });

    // December's usage is invoiced in January, and the credit pays part of it at once.
    service.clock.advance(Date.parse('2026-12-10T12:00:00Z') - service.clock.nowMs());
    await spend('acme', 1_000_000, 0);
    await service.app.ledger.drainOnce();
    expect((await service.http.ok('POST', '/v1/billing/runs', { as_of: '2027-01-01T06:00:00Z' })).invoiced).toEqual(['INV-2027-000001']);
    expect(await service.http.ok('GET', '/v1/invoices/INV-2027-000001')).toMatchObject({ period_start: '2026-12-01', total: '1.200000', status: 'issued' });
    expect((await service.http.ok('GET', '/v1/customers/acme/receivables'))).toMatchObject({ outstanding: '0.660000', credit: '0.000000' });
  });

  it('puts usage journaled after its period was invoiced on the next invoice, labelled late, and on no other', async () => {
    // Used on 20 December, but journaled only on 15 January: December was invoiced on 1 January.
    service.clock.set(Date.parse('2026-12-20T12:00:00Z'));
    await spend('acme', 100_000, 0);
    service.clock.set(Date.parse('2027-01-15T12:00:00Z'));
    await service.app.ledger.drainOnce();
    expect((await service.http.ok('POST', '/v1/billing/runs', { as_of: '2027-02-01T06:00:00Z' })).invoiced).toEqual(['INV-2027-000002']);
    const january = await service.http.ok('GET', '/v1/invoices/INV-2027-000002');
    expect(january).toMatchObject({ period_start: '2027-01-01', subtotal: '0.100000', tax: '0.020000', total: '0.120000' });
    expect(january.lines[0]).toMatchObject({ kind: 'usage', description: 'rating group 1, late usage from before 2027-01-01', units: '100000', amount: '0.100000' });
    expect((await service.http.ok('GET', '/v1/invoices/INV-2027-000001')).lines.map((line: { description: string }) => line.description), 'December stays as issued')
      .toEqual(['rating group 1', 'VAT 20%']);
  });

  it("ages what is owed by days past due, and marks it overdue", async () => {
    service.clock.advance(Date.parse('2027-03-01T12:00:00Z') - service.clock.nowMs());
    // Zenith's November invoice was due on 15 December: 77 days late.
    expect(await service.http.ok('GET', '/v1/customers/zenith/receivables')).toMatchObject({
      outstanding: '0.483600', aging: { current: '0.000000', '1-30': '0.000000', '31-60': '0.000000', '61-90': '0.483600', '90+': '0.000000' },
      invoices: [{ invoice_id: 'INV-2026-000002', owed: '0.483600', overdue: true }],
    });
  });

  it('catches up every period closed since the last invoice when runs were missed', async () => {
    // Acme's last invoice is for January, Zenith's for November: February and March, and
    // December to March, are looked at, and have nothing to invoice.
    expect(await service.http.ok('POST', '/v1/billing/runs', { as_of: '2027-04-01T06:00:00Z' }))
      .toEqual({ as_of: '2027-04-01T06:00:00.000Z', invoiced: [], drafts: [], already_invoiced: 0, nothing_to_invoice: 2 + 4 });
  });

  it('voids an invoice nobody paid, and corrects a paid one only with credit notes, each once, never past its total', async () => {
    expect(await service.http.ok('POST', '/v1/invoices/INV-2026-000002/void')).toEqual({ invoice_id: 'INV-2026-000002', status: 'void' });
    expect(await service.http.ok('GET', '/v1/customers/zenith/receivables')).toMatchObject({ outstanding: '0.000000', invoices: [] });
    const partlyPaid = await service.http.request('POST', '/v1/invoices/INV-2027-000001/void');
    expect(partlyPaid.status).toBe(409);
    expect(partlyPaid.body.error.message).toMatch(/partly paid: correct it with a credit note/);

    const walletBefore = (await service.grpc.ok('GetBalance', { customer_id: 'acme' })).wallet.balance;
    const note = { request_id: 'cn-acme-1', amount: '0.66', reason: 'goodwill' };
    const credited = await service.http.ok('POST', '/v1/invoices/INV-2027-000001/credit-notes', note);
    expect(credited).toEqual({ credit_note_id: 'CN-2027-000001', invoice_id: 'INV-2027-000001', amount: '0.660000', reason: 'goodwill' });
    expect(await service.http.ok('POST', '/v1/invoices/INV-2027-000001/credit-notes', note), 'a retry is the same note').toEqual(credited);
    expect(await service.http.ok('GET', '/v1/invoices/INV-2027-000001')).toMatchObject({ status: 'paid', credit_notes: [{ id: 'CN-2027-000001', amount: '0.660000' }] });
    expect((await service.grpc.ok('GetBalance', { customer_id: 'acme' })).wallet.balance).toBe((Number(walletBefore) + 0.66).toFixed(6));

    const conflicting = await service.http.request('POST', '/v1/invoices/INV-2027-000001/credit-notes', { ...note, amount: '0.10' });
    expect(conflicting.body.error).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', field: 'request_id' });
    const tooMuch = await service.http.request('POST', '/v1/invoices/INV-2027-000001/credit-notes', { request_id: 'cn-acme-2', amount: '0.55', reason: 'more' });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'amount', message: 'amount: must be at most 0.540000, what the invoice totals less earlier credit notes' });
  });

  it.each([
    ['an as_of that is not RFC 3339', { as_of: 'tomorrow' }, 'as_of'],
    ['an unknown field', { asof: '2026-12-01T00:00:00Z' }, 'body'],
  ])('refuses %s, naming the field', async (_name, body, field) => {
    const refused = await service.http.request('POST', '/v1/billing/runs', body);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', field });
  });
});

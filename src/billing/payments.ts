// Payments against invoices, and what a customer owes. A payment is recorded once by its id
// (a retry gets the same answer; the same id with another payload is refused), is allocated to
// its invoice up to what that invoice still owes, and leaves the rest as the customer's credit,
// which the next invoices take as they are issued. The money also goes into the customer's
// wallet as a top-up (id `payment:<id>`), so a postpaid wallet regains the credit it had used and
// the journal records it like any top-up. The row and the top-up are both or neither (see
// pending-top-ups.ts): a payment Redis refuses leaves no row, no allocation and no credit.
import type pg from 'pg';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { inTransaction } from '../db/database.js';
import { AppError } from '../errors.js';
import { ID_LENGTH_MAX, ID_RULE, isId } from '../formats.js';
import { formatMicros, parseAmount } from '../money/amount.js';
import { parseWith, positiveAmountText } from '../validation.js';
import { addPending, findPending, settlePending, type TopUps } from './pending-top-ups.js';

const id = z.string().refine(isId, ID_RULE);
const PAYMENT_TOP_UP_PREFIX = 'payment:';
/** The payment's top-up id is an id too, so the payment id leaves room for its prefix. */
const PAYMENT_ID_LENGTH_MAX = ID_LENGTH_MAX - PAYMENT_TOP_UP_PREFIX.length;
const paymentBody = z.strictObject({
  payment_id: id.refine((value) => value.length <= PAYMENT_ID_LENGTH_MAX, `must be at most ${PAYMENT_ID_LENGTH_MAX} characters`),
  customer_id: id,
  invoice_id: id.optional(),
  amount: positiveAmountText,
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as "EUR"'),
  method: z.string().min(1, 'must not be empty').max(32, 'must be at most 32 characters'),
  reference: z.string().max(128, 'must be at most 128 characters').optional(),
});
type PaymentInput = z.output<typeof paymentBody>;

/** Days past due of each aging bucket's end; past the last one is 90+. */
const AGING_BUCKETS = [['1-30', 30], ['31-60', 60], ['61-90', 90]] as const;
const DAY_MS = 86_400_000;

interface OpenInvoice {
  id: string;
  total_micros: string;
  paid_micros: string;
  due_at: Date;
}

export class PaymentService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly topUps: TopUps,
    private readonly clock: Clock,
  ) {}

  async record(body: unknown) {
    const input = parseWith(paymentBody, body);
    const amountMicros = (parseAmount(input.amount) as { micros: bigint }).micros;
    const pending = await inTransaction(this.pool, (client) => this.claim(client, input, amountMicros));
    const fresh = pending && (await this.settle(paymentTopUpId(input.payment_id))) === true;
    return { payment_id: input.payment_id, recorded: fresh, receivables: await this.receivables(input.customer_id) };
  }

  /** Writes the payment and tops up the wallet, both or neither; undefined when nothing is pending under this id. */
  async settle(topUpId: string): Promise<true | undefined> {
    return settlePending<PaymentInput, true>(this.pool, topUpId, {
      writeRows: async (client, input, receivedAt) => {
        await insertPayment(client, input, (parseAmount(input.amount) as { micros: bigint }).micros, receivedAt);
        await allocateCredit(client, input.customer_id, input.invoice_id);
        return true;
      },
      topUp: (input) => this.topUps.topUp({ top_up_id: topUpId, customer_id: input.customer_id, amount: input.amount, currency: input.currency }),
    });
  }

  /** Validates the payment and commits it as pending (true), unless it is pending already (true) or was recorded before (false). */
  private async claim(client: pg.PoolClient, input: PaymentInput, amountMicros: bigint): Promise<boolean> {
    const customer = await client.query<{ currency: string }>('SELECT currency FROM customers WHERE id = $1 FOR UPDATE', [input.customer_id]);
    if (customer.rows[0] === undefined) throw new AppError('NOT_FOUND', `customer ${input.customer_id} does not exist`, 'customer_id');
    if (customer.rows[0].currency !== input.currency) throw new AppError('CURRENCY_MISMATCH', `the customer is billed in ${customer.rows[0].currency}`, 'currency');
    if (await this.samePaymentAgain(client, input, amountMicros)) return false;
    const topUpId = paymentTopUpId(input.payment_id);
    const pending = await findPending<PaymentInput>(client, topUpId);
    if (pending !== undefined) {
      if (!samePayment(pending, input, amountMicros)) throw new AppError('IDEMPOTENCY_CONFLICT', 'was already used with a different payload', 'payment_id');
      return true;
    }
    await requirePayableInvoice(client, input);
    await addPending(client, { topUpId, kind: 'payment', customerId: input.customer_id, request: input }, this.clock);
    return true;
  }

  /** What the customer owes: open invoices, their aging by days past due, and its unallocated credit. */
  async receivables(customerId: string) {
    if (!isId(customerId)) throw new AppError('INVALID_ARGUMENT', ID_RULE, 'id');
    const nowMs = this.clock.nowMs();
    const [invoices, credit] = await Promise.all([openInvoices(this.pool, customerId), unallocatedCredit(this.pool, customerId)]);
    const aging: Record<string, bigint> = { current: 0n, '1-30': 0n, '31-60': 0n, '61-90': 0n, '90+': 0n };
    const listed = invoices.map((invoice) => {
      const owed = BigInt(invoice.total_micros) - BigInt(invoice.paid_micros);
      // A day late counts from the first moment past due: an invoice due yesterday evening is 1 day late.
      const daysPastDue = nowMs > invoice.due_at.getTime() ? Math.ceil((nowMs - invoice.due_at.getTime()) / DAY_MS) : 0;
      aging[bucketOf(daysPastDue)]! += owed;
      return { invoice_id: invoice.id, owed: formatMicros(owed), due_at: invoice.due_at.toISOString(), overdue: nowMs > invoice.due_at.getTime() };
    });
    const owed = Object.values(aging).reduce((total, amount) => total + amount, 0n);
    return {
      customer_id: customerId, outstanding: formatMicros(owed - credit), credit: formatMicros(credit), invoices: listed,
      aging: Object.fromEntries(Object.entries(aging).map(([bucket, amount]) => [bucket, formatMicros(amount)])),
    };
  }

  /** True when this payment was recorded before with the same payload; refused when the payload differs. */
  private async samePaymentAgain(client: pg.PoolClient, input: PaymentInput, amountMicros: bigint): Promise<boolean> {
    const { rows } = await client.query<{ customer_id: string; invoice_id: string | null; amount_micros: string; method: string; reference: string | null }>(
      'SELECT customer_id, invoice_id, amount_micros, method, reference FROM payments WHERE id = $1', [input.payment_id]);
    const before = rows[0];
    if (before === undefined) return false;
    const same = before.customer_id === input.customer_id && before.invoice_id === (input.invoice_id ?? null)
      && BigInt(before.amount_micros) === amountMicros && before.method === input.method && before.reference === (input.reference ?? null);
    if (!same) throw new AppError('IDEMPOTENCY_CONFLICT', 'was already used with a different payload', 'payment_id');
    return true;
  }
}

/** The wallet top-up of a payment: one id per payment, so every repeat of it is the same top-up. */
function paymentTopUpId(paymentId: string): string {
  return `${PAYMENT_TOP_UP_PREFIX}${paymentId}`;
}

function samePayment(pending: PaymentInput, input: PaymentInput, amountMicros: bigint): boolean {
  return pending.customer_id === input.customer_id && (pending.invoice_id ?? null) === (input.invoice_id ?? null)
    && (parseAmount(pending.amount) as { micros: bigint }).micros === amountMicros && pending.currency === input.currency
    && pending.method === input.method && (pending.reference ?? null) === (input.reference ?? null);
}

async function requirePayableInvoice(client: pg.PoolClient, input: PaymentInput): Promise<void> {
  if (input.invoice_id === undefined) return;
  const invoice = await client.query<{ status: string }>('SELECT status FROM invoices WHERE id = $1 AND customer_id = $2', [input.invoice_id, input.customer_id]);
  if (!invoice.rowCount) throw new AppError('NOT_FOUND', `invoice ${input.invoice_id} is not one of ${input.customer_id}'s`, 'invoice_id');
  if (invoice.rows[0]!.status === 'draft') throw new AppError('CONFLICT', `invoice ${input.invoice_id} is a draft: pay it once it is issued`, 'invoice_id');
}

async function insertPayment(client: pg.PoolClient, input: PaymentInput, amountMicros: bigint, receivedAt: Date): Promise<void> {
  await client.query(
    'INSERT INTO payments (id, customer_id, invoice_id, amount_micros, currency, method, reference, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    [input.payment_id, input.customer_id, input.invoice_id ?? null, amountMicros.toString(), input.currency, input.method, input.reference ?? null, receivedAt]);
}

/**
 * Allocates the customer's unallocated payments, oldest first, to its open invoices: the one a
 * payment names first, then the oldest. The caller holds the customer's row lock.
 */
export async function allocateCredit(client: pg.PoolClient, customerId: string, preferredInvoiceId?: string): Promise<void> {
  const invoices = (await openInvoices(client, customerId)).sort((left, right) =>
    Number(right.id === preferredInvoiceId) - Number(left.id === preferredInvoiceId));
  const { rows: payments } = await client.query<{ id: string; left_micros: string }>(
    `SELECT p.id, p.amount_micros - coalesce(sum(a.amount_micros), 0) AS left_micros
     FROM payments p LEFT JOIN payment_allocations a ON a.payment_id = p.id
     WHERE p.customer_id = $1 GROUP BY p.id HAVING p.amount_micros - coalesce(sum(a.amount_micros), 0) > 0 ORDER BY p.received_at, p.id`, [customerId]);
  let paymentIndex = 0;
  let paymentLeft = payments[0] === undefined ? 0n : BigInt(payments[0].left_micros);
  for (const invoice of invoices) {
    let owed = BigInt(invoice.total_micros) - BigInt(invoice.paid_micros);
    while (owed > 0n && paymentIndex < payments.length) {
      const amount = owed < paymentLeft ? owed : paymentLeft;
      await client.query(
        `INSERT INTO payment_allocations (payment_id, invoice_id, amount_micros) VALUES ($1, $2, $3)
         ON CONFLICT (payment_id, invoice_id) DO UPDATE SET amount_micros = payment_allocations.amount_micros + excluded.amount_micros`,
        [payments[paymentIndex]!.id, invoice.id, amount.toString()]);
      owed -= amount;
      paymentLeft -= amount;
      if (paymentLeft === 0n && ++paymentIndex < payments.length) paymentLeft = BigInt(payments[paymentIndex]!.left_micros);
    }
    if (owed === 0n) await client.query(`UPDATE invoices SET status = 'paid' WHERE id = $1 AND status = 'issued'`, [invoice.id]);
  }
}

async function openInvoices(db: pg.Pool | pg.PoolClient, customerId: string): Promise<OpenInvoice[]> {
  const { rows } = await db.query<OpenInvoice>(
    `SELECT i.id, i.total_micros, coalesce(sum(a.amount_micros), 0) AS paid_micros, i.due_at
     FROM invoices i LEFT JOIN payment_allocations a ON a.invoice_id = i.id
     WHERE i.customer_id = $1 AND i.status = 'issued' GROUP BY i.id ORDER BY i.issued_at, i.id`, [customerId]);
  return rows;
}

async function unallocatedCredit(pool: pg.Pool, customerId: string): Promise<bigint> {
  const { rows } = await pool.query<{ credit: string }>(
    `SELECT coalesce(sum(p.amount_micros), 0) - coalesce((SELECT sum(a.amount_micros) FROM payment_allocations a JOIN payments q ON q.id = a.payment_id
                                                         WHERE q.customer_id = $1), 0) AS credit
     FROM payments p WHERE p.customer_id = $1`, [customerId]);
  return BigInt(rows[0]!.credit);
}

function bucketOf(daysPastDue: number): string {
  if (daysPastDue < 1) return 'current';
  for (const [bucket, lastDay] of AGING_BUCKETS) if (daysPastDue <= lastDay) return bucket;
  return '90+';
}

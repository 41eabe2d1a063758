// Corrections of issued invoices, which never change themselves. An invoice nobody has paid
// anything of may be voided (a mistake caught before it was paid). Otherwise a credit note
// credits part or all of it: numbered like invoices (CN-2026-000001), at most what the invoice
// totals less earlier credit notes, once per request id. Its amount then works as a payment:
// it pays what the invoice still owes, the rest is the customer's credit, and it enters the wallet.
import type pg from 'pg';
import { z } from 'zod';
import type { ChargingService } from '../charging/charging-service.js';
import type { Clock } from '../clock.js';
import { inTransaction } from '../db/database.js';
import { AppError } from '../errors.js';
import { ID_RULE, isId } from '../formats.js';
import { formatMicros, parseAmount } from '../money/amount.js';
import { parseWith, positiveAmountText } from '../validation.js';
import { nextNumber } from './billing-run.js';
import { allocateCredit } from './payments.js';

const creditNoteBody = z.strictObject({
  request_id: z.string().refine(isId, ID_RULE),
  amount: positiveAmountText,
  reason: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
});

interface InvoiceRow {
  customer_id: string;
  currency: string;
  status: string;
  total_micros: string;
}

export class CorrectionService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly charging: ChargingService,
    private readonly clock: Clock,
  ) {}

  async void(invoiceId: string) {
    return inTransaction(this.pool, async (client) => {
      const invoice = await lockedInvoice(client, invoiceId);
      const paid = await client.query('SELECT 1 FROM payment_allocations WHERE invoice_id = $1 LIMIT 1', [invoiceId]);
      if (invoice.status !== 'issued' || paid.rowCount) {
        throw new AppError('CONFLICT', `invoice ${invoiceId} is ${paid.rowCount ? 'partly paid' : invoice.status}: correct it with a credit note`, 'id');
      }
      await client.query(`UPDATE invoices SET status = 'void' WHERE id = $1`, [invoiceId]);
      return { invoice_id: invoiceId, status: 'void' };
    });
  }

  async creditNote(invoiceId: string, body: unknown) {
    const input = parseWith(creditNoteBody, body);
    const amountMicros = (parseAmount(input.amount) as { micros: bigint }).micros;
    const note = await inTransaction(this.pool, async (client) => {
      const invoice = await lockedInvoice(client, invoiceId);
      const earlier = await client.query<{ id: string; invoice_id: string; amount_micros: string; reason: string }>(
        'SELECT id, invoice_id, amount_micros, reason FROM credit_notes WHERE request_id = $1', [input.request_id]);
      if (earlier.rows[0] !== undefined) return sameRequest(earlier.rows[0], invoiceId, amountMicros, input.reason, invoice);
      if (invoice.status === 'void' || invoice.status === 'draft') throw new AppError('CONFLICT', `invoice ${invoiceId} is ${invoice.status === 'void' ? 'void' : 'a draft, not issued yet'}`, 'id');
      await refuseOverCredit(client, invoiceId, invoice, amountMicros);
      const id = await nextNumber(client, 'CN', new Date(this.clock.nowMs()).getUTCFullYear());
      await client.query('INSERT INTO credit_notes (id, request_id, invoice_id, amount_micros, reason, issued_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [id, input.request_id, invoiceId, amountMicros.toString(), input.reason, new Date(this.clock.nowMs())]);
      await client.query(
        `INSERT INTO payments (id, customer_id, invoice_id, amount_micros, currency, method, reference, received_at) VALUES ($1, $2, $3, $4, $5, 'credit-note', $6, $7)`,
        [`credit-note:${id}`, invoice.customer_id, invoiceId, amountMicros.toString(), invoice.currency, id, new Date(this.clock.nowMs())]);
      await allocateCredit(client, invoice.customer_id, invoiceId);
      return { id, customerId: invoice.customer_id, currency: invoice.currency };
    });
    // After the commit, with an id of its own: a retry of the request repeats it safely.
    await this.charging.topUp({ top_up_id: `payment:credit-note:${note.id}`, customer_id: note.customerId, amount: input.amount, currency: note.currency });
    return { credit_note_id: note.id, invoice_id: invoiceId, amount: formatMicros(amountMicros), reason: input.reason };
  }
}

async function lockedInvoice(client: pg.PoolClient, invoiceId: string): Promise<InvoiceRow> {
  if (!isId(invoiceId)) throw new AppError('INVALID_ARGUMENT', ID_RULE, 'id');
  const found = await client.query<InvoiceRow>('SELECT customer_id, currency, status, total_micros FROM invoices WHERE id = $1', [invoiceId]);
  if (found.rows[0] === undefined) throw new AppError('NOT_FOUND', `invoice ${invoiceId} does not exist`, 'id');
  // The customer's row orders every change of its invoices, payments and credit.
  await client.query('SELECT 1 FROM customers WHERE id = $1 FOR UPDATE', [found.rows[0].customer_id]);
  const { rows } = await client.query<InvoiceRow>('SELECT customer_id, currency, status, total_micros FROM invoices WHERE id = $1', [invoiceId]);
  return rows[0]!;
}

function sameRequest(earlier: { id: string; invoice_id: string; amount_micros: string; reason: string }, invoiceId: string, amountMicros: bigint, reason: string, invoice: InvoiceRow) {
  if (earlier.invoice_id !== invoiceId || BigInt(earlier.amount_micros) !== amountMicros || earlier.reason !== reason) {
    throw new AppError('IDEMPOTENCY_CONFLICT', 'was already used with a different payload', 'request_id');
  }
  return { id: earlier.id, customerId: invoice.customer_id, currency: invoice.currency };
}

async function refuseOverCredit(client: pg.PoolClient, invoiceId: string, invoice: InvoiceRow, amountMicros: bigint): Promise<void> {
  const { rows } = await client.query<{ credited: string }>('SELECT coalesce(sum(amount_micros), 0) AS credited FROM credit_notes WHERE invoice_id = $1', [invoiceId]);
  const room = BigInt(invoice.total_micros) - BigInt(rows[0]!.credited);
  if (amountMicros > room) throw new AppError('INVALID_ARGUMENT', `must be at most ${formatMicros(room)}, what the invoice totals less earlier credit notes`, 'amount');
}

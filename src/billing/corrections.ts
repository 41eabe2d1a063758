// Corrections of issued invoices, which never change themselves. An invoice nobody has paid
// anything of may be voided (a mistake caught before it was paid). Otherwise a credit note
// credits part or all of it: numbered like invoices (CN-2026-000001), at most what the invoice
// totals less earlier credit notes, once per request id. Its amount then works as a payment:
// it pays what the invoice still owes, the rest is the customer's credit, and it enters the wallet.
// The note's rows and the wallet's top-up are both or neither (see pending-top-ups.ts).
import type pg from 'pg';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { inTransaction } from '../db/database.js';
import { AppError } from '../errors.js';
import { ID_LENGTH_MAX, ID_RULE, isId } from '../formats.js';
import { formatMicros, parseAmount } from '../money/amount.js';
import { parseWith, positiveAmountText } from '../validation.js';
import { nextNumber } from './billing-run.js';
import { allocateCredit } from './payments.js';
import { addPending, findPending, settlePending, type TopUps } from './pending-top-ups.js';

const CREDIT_NOTE_TOP_UP_PREFIX = 'payment:credit-note:';
/** The note's top-up id is an id too, so the request id leaves room for its prefix. */
const REQUEST_ID_LENGTH_MAX = ID_LENGTH_MAX - CREDIT_NOTE_TOP_UP_PREFIX.length;
const creditNoteBody = z.strictObject({
  request_id: z.string().refine(isId, ID_RULE).refine((value) => value.length <= REQUEST_ID_LENGTH_MAX, `must be at most ${REQUEST_ID_LENGTH_MAX} characters`),
  amount: positiveAmountText,
  reason: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
});
type CreditNoteInput = z.output<typeof creditNoteBody>;

/** What a pending credit note holds: the request and the invoice's owner, fixed when it was accepted. */
interface PendingCreditNote extends CreditNoteInput {
  invoice_id: string;
  customer_id: string;
  currency: string;
}

interface InvoiceRow {
  customer_id: string;
  currency: string;
  status: string;
  total_micros: string;
}

export class CorrectionService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly topUps: TopUps,
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
    const earlier = await inTransaction(this.pool, (client) => this.claim(client, invoiceId, input, amountMicros));
    const id = earlier ?? (await this.settle(creditNoteTopUpId(input.request_id))) ?? (await this.issuedNoteId(input.request_id));
    return { credit_note_id: id, invoice_id: invoiceId, amount: formatMicros(amountMicros), reason: input.reason };
  }

  /** Writes the note, its payment and allocation, and tops up the wallet, both or neither; undefined when nothing is pending. */
  async settle(topUpId: string): Promise<string | undefined> {
    return settlePending<PendingCreditNote, string>(this.pool, topUpId, {
      writeRows: (client, note, issuedAt) => writeCreditNote(client, note, issuedAt),
      topUp: (note) => this.topUps.topUp({ top_up_id: topUpId, customer_id: note.customer_id, amount: note.amount, currency: note.currency }),
    });
  }

  /** Validates the request and commits it as pending; the note's id when it was issued before with the same payload. */
  private async claim(client: pg.PoolClient, invoiceId: string, input: CreditNoteInput, amountMicros: bigint): Promise<string | undefined> {
    const invoice = await lockedInvoice(client, invoiceId);
    const earlier = await client.query<{ id: string; invoice_id: string; amount_micros: string; reason: string }>(
      'SELECT id, invoice_id, amount_micros, reason FROM credit_notes WHERE request_id = $1', [input.request_id]);
    if (earlier.rows[0] !== undefined) {
      requireSameRequest(earlier.rows[0], invoiceId, amountMicros, input.reason);
      return earlier.rows[0].id;
    }
    const topUpId = creditNoteTopUpId(input.request_id);
    const pending = await findPending<PendingCreditNote>(client, topUpId);
    if (pending !== undefined) {
      const pendingMicros = (parseAmount(pending.amount) as { micros: bigint }).micros;
      requireSameRequest({ invoice_id: pending.invoice_id, amount_micros: pendingMicros.toString(), reason: pending.reason }, invoiceId, amountMicros, input.reason);
      return undefined;
    }
    if (invoice.status === 'void' || invoice.status === 'draft') throw new AppError('CONFLICT', `invoice ${invoiceId} is ${invoice.status === 'void' ? 'void' : 'a draft, not issued yet'}`, 'id');
    await refuseOverCredit(client, invoiceId, invoice, amountMicros);
    const note: PendingCreditNote = { ...input, invoice_id: invoiceId, customer_id: invoice.customer_id, currency: invoice.currency };
    await addPending(client, { topUpId, kind: 'credit-note', customerId: invoice.customer_id, request: note }, this.clock);
    return undefined;
  }

  /** The note a concurrent caller issued for this request while this one waited. */
  private async issuedNoteId(requestId: string): Promise<string> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM credit_notes WHERE request_id = $1', [requestId]);
    if (rows[0] === undefined) throw new AppError('CONFLICT', 'the credit note was refused by a concurrent attempt: try again', 'request_id');
    return rows[0].id;
  }
}

/**
 * The wallet top-up of a credit note. It is named by the request, not the note's number: the
 * number is taken in the transaction that also tops up, and a repeat of it may take another.
 */
function creditNoteTopUpId(requestId: string): string {
  return `${CREDIT_NOTE_TOP_UP_PREFIX}${requestId}`;
}

async function writeCreditNote(client: pg.PoolClient, note: PendingCreditNote, issuedAt: Date): Promise<string> {
  const amountMicros = (parseAmount(note.amount) as { micros: bigint }).micros;
  const id = await nextNumber(client, 'CN', issuedAt.getUTCFullYear());
  await client.query('INSERT INTO credit_notes (id, request_id, invoice_id, amount_micros, reason, issued_at) VALUES ($1, $2, $3, $4, $5, $6)',
    [id, note.request_id, note.invoice_id, amountMicros.toString(), note.reason, issuedAt]);
  await client.query(
    `INSERT INTO payments (id, customer_id, invoice_id, amount_micros, currency, method, reference, received_at) VALUES ($1, $2, $3, $4, $5, 'credit-note', $6, $7)`,
    [`credit-note:${id}`, note.customer_id, note.invoice_id, amountMicros.toString(), note.currency, id, issuedAt]);
  await allocateCredit(client, note.customer_id, note.invoice_id);
  return id;
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

/** A request id already issued or pending takes only the same payload again. */
function requireSameRequest(earlier: { invoice_id: string; amount_micros: string; reason: string }, invoiceId: string, amountMicros: bigint, reason: string): void {
  if (earlier.invoice_id !== invoiceId || BigInt(earlier.amount_micros) !== amountMicros || earlier.reason !== reason) {
    throw new AppError('IDEMPOTENCY_CONFLICT', 'was already used with a different payload', 'request_id');
  }
}

async function refuseOverCredit(client: pg.PoolClient, invoiceId: string, invoice: InvoiceRow, amountMicros: bigint): Promise<void> {
  // Notes still pending count too: once they settle they must not take the invoice past its total.
  const { rows } = await client.query<{ credited: string }>(
    `SELECT (SELECT coalesce(sum(amount_micros), 0) FROM credit_notes WHERE invoice_id = $1)
          + (SELECT coalesce(sum(((request->>'amount')::numeric * 1000000)::bigint), 0) FROM pending_top_ups WHERE kind = 'credit-note' AND request->>'invoice_id' = $1) AS credited`,
    [invoiceId]);
  const room = BigInt(invoice.total_micros) - BigInt(rows[0]!.credited);
  if (amountMicros > room) throw new AppError('INVALID_ARGUMENT', `must be at most ${formatMicros(room)}, what the invoice totals less earlier credit notes`, 'amount');
}

// Reading invoices: a customer's list, and one invoice with its lines, amounts as decimal strings.
import type pg from 'pg';
import { AppError } from '../errors.js';
import { ID_RULE, isId } from '../formats.js';
import { formatMicros } from '../money/amount.js';

interface InvoiceRow {
  id: string; customer_id: string; period_start: string; period_end: string; currency: string; status: string;
  subtotal_micros: string; tax_micros: string; total_micros: string;
  /** Null while a draft. */
  issued_at: Date | null; due_at: Date | null;
}

interface LineRow {
  position: number; kind: string; description: string; device_id: string | null; rating_group: number | null; zone: string | null; units: string | null; amount_micros: string;
}

const INVOICES_LISTED_MAX = 100;
/** Dates as text: a date is a calendar day, not an instant to shift into the server's zone. */
const INVOICE_COLUMNS = `id, customer_id, period_start::text AS period_start, period_end::text AS period_end, currency, status,
  subtotal_micros, tax_micros, total_micros, issued_at, due_at`;

export class InvoiceService {
  constructor(private readonly pool: pg.Pool) {}

  async list(customerId: string) {
    if (!isId(customerId)) throw new AppError('INVALID_ARGUMENT', ID_RULE, 'id');
    const { rows } = await this.pool.query<InvoiceRow>(
      `SELECT ${INVOICE_COLUMNS} FROM invoices WHERE customer_id = $1 ORDER BY invoices.period_start DESC LIMIT $2`, [customerId, INVOICES_LISTED_MAX]);
    return { items: rows.map(invoiceView) };
  }

  async get(invoiceId: string): Promise<InvoiceDetail> {
    if (!isId(invoiceId)) throw new AppError('INVALID_ARGUMENT', ID_RULE, 'id');
    const { rows } = await this.pool.query<InvoiceRow>(`SELECT ${INVOICE_COLUMNS} FROM invoices WHERE id = $1`, [invoiceId]);
    if (rows[0] === undefined) throw new AppError('NOT_FOUND', `invoice ${invoiceId} does not exist`, 'id');
    const [lines, notes] = await Promise.all([
      this.pool.query<LineRow>('SELECT * FROM invoice_lines WHERE invoice_id = $1 ORDER BY position', [invoiceId]),
      this.pool.query<{ id: string; amount_micros: string; reason: string; issued_at: Date }>(
        'SELECT id, amount_micros, reason, issued_at FROM credit_notes WHERE invoice_id = $1 ORDER BY issued_at, id', [invoiceId]),
    ]);
    return {
      ...invoiceView(rows[0]),
      credit_notes: notes.rows.map((note) => ({ id: note.id, amount: formatMicros(BigInt(note.amount_micros)), reason: note.reason, issued_at: note.issued_at.toISOString() })),
      lines: lines.rows.map((line) => ({
        position: line.position, kind: line.kind, description: line.description, device_id: line.device_id, rating_group: line.rating_group,
        zone: line.zone, units: line.units, amount: formatMicros(BigInt(line.amount_micros)),
      })),
    };
  }
}

function invoiceView(row: InvoiceRow) {
  return {
    id: row.id, customer_id: row.customer_id, period_start: row.period_start, period_end: row.period_end, currency: row.currency, status: row.status,
    subtotal: formatMicros(BigInt(row.subtotal_micros)), tax: formatMicros(BigInt(row.tax_micros)), total: formatMicros(BigInt(row.total_micros)),
    issued_at: row.issued_at?.toISOString() ?? null, due_at: row.due_at?.toISOString() ?? null,
  };
}

export type InvoiceDetail = ReturnType<typeof invoiceView> & {
  credit_notes: { id: string; amount: string; reason: string; issued_at: string }[];
  lines: { position: number; kind: string; description: string; device_id: string | null; rating_group: number | null; zone: string | null; units: string | null; amount: string }[];
};

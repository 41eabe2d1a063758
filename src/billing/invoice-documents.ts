// An invoice as a document: HTML to show, PDF to send, CSV of its lines to import. All three are
// made from the same view (invoices.ts), so they show the same amounts, as decimal strings.
import PDFDocument from 'pdfkit';
import type { InvoiceDetail } from './invoices.js';

const CSV_COLUMNS = ['position', 'kind', 'description', 'device_id', 'rating_group', 'zone', 'units', 'amount'] as const;

export function invoiceCsv(invoice: InvoiceDetail): string {
  const rows = invoice.lines.map((line) => CSV_COLUMNS.map((column) => csvField(line[column])).join(','));
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}

export function invoiceHtml(invoice: InvoiceDetail): string {
  const rows = invoice.lines.map((line) =>
    `<tr><td>${line.position}</td><td>${escapeHtml(line.description)}${line.device_id === null ? '' : ` (${escapeHtml(line.device_id)})`}</td>` +
    `<td class="number">${line.units ?? ''}</td><td class="number">${line.amount}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice ${escapeHtml(invoice.id)}</title>
<style>body{font-family:sans-serif;margin:2rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:.3rem;text-align:left}.number{text-align:right}</style>
</head><body>
<h1>Invoice ${escapeHtml(invoice.id)}</h1>
<p>Customer ${escapeHtml(invoice.customer_id)} · period ${invoice.period_start} to ${invoice.period_end} · ${dates(invoice)} · ${invoice.status}</p>
<table><thead><tr><th>#</th><th>Description</th><th class="number">Units</th><th class="number">Amount (${invoice.currency})</th></tr></thead>
<tbody>
${rows}
</tbody>
<tfoot>
<tr><th colspan="3">Subtotal</th><td class="number">${invoice.subtotal}</td></tr>
<tr><th colspan="3">Tax</th><td class="number">${invoice.tax}</td></tr>
<tr><th colspan="3">Total</th><td class="number">${invoice.total}</td></tr>
</tfoot></table>
</body></html>
`;
}

/** Resolves with the PDF's bytes. */
export function invoicePdf(invoice: InvoiceDetail): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // A fixed creation date, so the same invoice always renders to the same bytes.
    const document = new PDFDocument({ size: 'A4', margin: 50, info: { Title: `Invoice ${invoice.id}`, ...(invoice.issued_at === null ? {} : { CreationDate: new Date(invoice.issued_at) }) } });
    const chunks: Buffer[] = [];
    document.on('data', (chunk: Buffer) => chunks.push(chunk));
    document.on('end', () => resolve(Buffer.concat(chunks)));
    document.on('error', reject);
    document.fontSize(18).text(`Invoice ${invoice.id}`);
    document.fontSize(10).moveDown()
      .text(`Customer ${invoice.customer_id}`)
      .text(`Period ${invoice.period_start} to ${invoice.period_end}`)
      .text(`${dates(invoice)} (${invoice.status})`)
      .moveDown();
    for (const line of invoice.lines) {
      const device = line.device_id === null ? '' : ` (${line.device_id})`;
      const units = line.units === null ? '' : `, ${line.units} units`;
      document.text(`${line.position}. ${line.description}${device}${units}: ${line.amount} ${invoice.currency}`);
    }
    document.moveDown()
      .text(`Subtotal ${invoice.subtotal} ${invoice.currency}`)
      .text(`Tax ${invoice.tax} ${invoice.currency}`)
      .fontSize(12).text(`Total ${invoice.total} ${invoice.currency}`);
    document.end();
  });
}

/** What a spreadsheet runs as a formula when a cell starts with it (OWASP, CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;
/** A plain number, such as the amount -1.500000 of a credit, is no formula and stays a number. */
const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;

/**
 * One RFC 4180 cell. A device id such as `=2+3*cmd|'calc'!A0` would run when an accountant
 * opens the file, so a cell that could start a formula gets a leading single quote, which
 * spreadsheets show as text, and is quoted.
 */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  if (FORMULA_START.test(text) && !PLAIN_NUMBER.test(text)) return quoted(`'${text}`);
  return /[",\r\n]/.test(text) ? quoted(text) : text;
}

function quoted(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** A draft has no issue or due date yet. */
function dates(invoice: InvoiceDetail): string {
  return invoice.issued_at === null ? 'draft, not issued yet' : `issued ${invoice.issued_at}, due ${invoice.due_at}`;
}

// An invoice's CSV is opened by accountants in spreadsheets, which run a cell starting with =,
// +, -, @, tab or carriage return as a formula. Device ids, zones and descriptions come from
// operators' and gateways' input, so such cells are neutralised (OWASP's CSV injection advice):
// a leading single quote, and the cell quoted. Plain numbers (a negative amount) stay numbers.
import { describe, expect, it } from 'vitest';
import { invoiceCsv } from '../../src/billing/invoice-documents.js';
import type { InvoiceDetail } from '../../src/billing/invoices.js';

type Line = InvoiceDetail['lines'][number];

function invoiceWith(lines: Partial<Line>[]): InvoiceDetail {
  return {
    id: 'INV-1', customer_id: 'c', period_start: '2026-11-01', period_end: '2026-12-01', currency: 'EUR', status: 'issued',
    subtotal: '0', tax: '0', total: '0', issued_at: null, due_at: null, credit_notes: [],
    lines: lines.map((line, index) => ({
      position: index + 1, kind: 'usage', description: 'data', device_id: null, rating_group: null, zone: null, units: null, amount: '1.000000', ...line,
    })),
  };
}

/** The cells of the first line, after the header. */
function firstRow(line: Partial<Line>): string {
  return invoiceCsv(invoiceWith([line])).split('\r\n')[1]!;
}

describe('invoice CSV: formula injection', () => {
  it.each([
    ['=', "=2+3*cmd|'calc'!A0", `"'=2+3*cmd|'calc'!A0"`],
    ['+', '+1+cmd', `"'+1+cmd"`],
    ['-', '-2+3', `"'-2+3"`],
    ['@', '@SUM(A1)', `"'@SUM(A1)"`],
    ['a tab', '\t=1', `"'\t=1"`],
    ['a carriage return', '\r=1', `"'\r=1"`],
  ])('a device id starting with %s is prefixed with a quote and quoted', (_name, deviceId, cell) => {
    expect(firstRow({ device_id: deviceId })).toBe(`1,usage,data,${cell},,,,1.000000`);
  });

  it('neutralises every text column, and doubles quotes inside the cell', () => {
    expect(firstRow({ description: '=HYPERLINK("http://x")', zone: '@z' })).toBe(`1,usage,"'=HYPERLINK(""http://x"")",,,"'@z",,1.000000`);
  });

  it('leaves plain numbers alone, negative amounts included, so they stay numbers', () => {
    expect(firstRow({ units: '-5', amount: '-1.500000' })).toBe('1,usage,data,,,,-5,-1.500000');
  });

  it('leaves a cell with = or - further in alone', () => {
    expect(firstRow({ device_id: 'a=b-c', description: 'fee, 8 of 30 days' })).toBe('1,usage,"fee, 8 of 30 days",a=b-c,,,,1.000000');
  });
});

// Renders the bench's results as markdown tables: every throughput next to the ceiling it is
// measured against, as a ratio, with the targets marked pass or fail.

export interface ReportRow {
  measurement: string;
  result: string;
  /** What the result is compared with, e.g. "gRPC no-op 20,000 calls/s"; empty when none. */
  ceiling: string;
  /** result ÷ ceiling; undefined when there is no ceiling. */
  ratio: number | undefined;
  target: string;
  /** undefined: no target. */
  passed: boolean | undefined;
}

export interface CpuRow {
  phase: string;
  /** Percent of one core; null when unknown. */
  service: number | null;
  redis: number | null;
  loadGenerator: number | null;
}

export function formatNumber(value: number, fractionDigits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: fractionDigits, maximumFractionDigits: fractionDigits });
}

export function formatMs(value: number): string {
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

export function formatBytes(value: number): string {
  return `${formatNumber(value)} B`;
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => escape(row[column] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, column) => escape(cell).padEnd(widths[column]!)).join(' | ')} |`;
  return [line(header), `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

export function resultsTable(rows: readonly ReportRow[]): string {
  return markdownTable(
    ['measurement', 'result', 'ceiling', 'ratio', 'target', 'pass'],
    rows.map((row) => [
      row.measurement,
      row.result,
      row.ceiling,
      row.ratio === undefined ? '' : row.ratio.toFixed(2),
      row.target,
      row.passed === undefined ? '' : row.passed ? 'PASS' : 'FAIL',
    ]),
  );
}

export function cpuTable(rows: readonly CpuRow[]): string {
  const percent = (value: number | null) => (value === null ? 'n/a' : `${value}%`);
  return markdownTable(
    ['phase (CPU, 100% = one core)', 'service', 'redis-server', 'load generator'],
    rows.map((row) => [row.phase, percent(row.service), percent(row.redis), percent(row.loadGenerator)]),
  );
}

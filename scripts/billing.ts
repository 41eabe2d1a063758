// `npm run billing -- run [--as-of TIME] [--url URL] [--token TOKEN]`: a billing run on demand,
// through the running service, as of an RFC 3339 instant (now by default): every customer whose
// billing period closed by then is invoiced, once (or drafted, within INVOICE_GRACE_HOURS).
// Prints the invoices and drafts made. Exits 0 on success,
// 1 when the service refused or could not be asked, 2 on a usage error.
//   IO_HTTP_URL  default http://127.0.0.1:8080
//   ADMIN_TOKEN  the bearer token, when the service has one (or --token)
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { BillingRunReport } from '../src/billing/billing-run.js';
import { askJson, targetOf, type CliOutput } from './service-api.js';

const USAGE = 'usage: npm run billing -- run [--as-of 2026-12-01T06:00:00Z] [--url URL] [--token TOKEN]';

export async function runBillingCli(argv: string[], output: CliOutput, environment: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { 'as-of': { type: 'string' }, url: { type: 'string' }, token: { type: 'string' } } });
  } catch (error) {
    output.err(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.positionals.length !== 1 || parsed.positionals[0] !== 'run') {
    output.err(USAGE);
    return 2;
  }
  const asOf = parsed.values['as-of'];
  const report = await askJson(targetOf(parsed.values, environment), '/v1/billing/runs', 'POST', output, asOf === undefined ? {} : { as_of: asOf }) as BillingRunReport | undefined;
  if (report === undefined) return 1;
  const listed = (ids: string[]) => (ids.length === 0 ? '' : ` (${ids.join(', ')})`);
  output.out(`billing run as of ${report.as_of}: ${report.invoiced.length} invoices made${listed(report.invoiced)}, ${report.drafts.length} drafts${listed(report.drafts)}, ` +
    `${report.already_invoiced} already invoiced, ${report.nothing_to_invoice} with nothing to invoice`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const output: CliOutput = { out: (text) => console.log(text), err: (text) => console.error(text) };
  process.exitCode = await runBillingCli(process.argv.slice(2), output);
}

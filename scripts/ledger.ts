// `npm run ledger -- reconcile [--url URL] [--token TOKEN]`: journals what waits in Redis, then
// compares every customer's Redis wallet with the journal and prints each difference. Exits 0
// when they agree, 1 on any difference (or when the service cannot be asked), 2 on a usage error.
// `npm run ledger -- backlog`: the events not journaled yet, and the age of the oldest.
// `npm run ledger -- rebuild`: after Redis lost its data and the service started again, restores
// every wallet and allowance bucket from the journal, voiding the holds (see src/ledger/rebuilder.ts).
//   IO_HTTP_URL  default http://127.0.0.1:8080
//   ADMIN_TOKEN  the bearer token, when the service has one (or --token)
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Reconciliation } from '../src/ledger/reconciler.js';
import { askJson, targetOf, type CliOutput } from './service-api.js';

const USAGE = 'usage: npm run ledger -- reconcile|backlog|rebuild [--url URL] [--token TOKEN]';
const PATHS = { reconcile: '/v1/ledger/reconciliation', backlog: '/v1/ledger/backlog', rebuild: '/v1/ledger/rebuild' } as const;

export async function runLedgerCli(argv: string[], output: CliOutput, environment: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { url: { type: 'string' }, token: { type: 'string' } } });
  } catch (error) {
    output.err(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const target = targetOf(parsed.values, environment);
  const [command, ...rest] = parsed.positionals;
  if (rest.length > 0 || (command !== 'reconcile' && command !== 'backlog' && command !== 'rebuild')) {
    output.err(USAGE);
    return 2;
  }
  const answer = await askJson(target, PATHS[command], command === 'rebuild' ? 'POST' : 'GET', output);
  if (answer === undefined) return 1;
  if (command === 'rebuild') {
    const report = answer as { customers: number; voided_held_micros: string };
    output.out(`${report.customers} customers restored from the journal; ${report.voided_held_micros} micros of holds voided`);
    return 0;
  }
  if (command === 'backlog') {
    const backlog = answer as { events: number; oldest_age_ms: number };
    output.out(`${backlog.events} events not journaled yet; the oldest is ${backlog.oldest_age_ms} ms old`);
    return 0;
  }
  return describeReconciliation(answer as Reconciliation, output);
}

export function describeReconciliation(report: Reconciliation, output: CliOutput): number {
  for (const difference of report.differences) {
    const { redis, journal } = difference;
    output.out(`${difference.customer_id}: Redis balance ${redis.balance_micros} held ${redis.held_micros}, journal balance ${journal.balance_micros} held ${journal.held_micros} (micros)` +
      (difference.in_flight ? '; events still in flight, check again' : ''));
  }
  output.out(`${report.customers} customers compared, ${report.differences.length} differ`);
  return report.differences.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const output: CliOutput = { out: (text) => console.log(text), err: (text) => console.error(text) };
  process.exitCode = await runLedgerCli(process.argv.slice(2), output);
}

// `npm run catalog -- apply plans.yaml [--dry-run] [--url URL] [--token TOKEN]` and
// `npm run catalog -- export [file] [--url URL] [--token TOKEN]`: pricing as code against a
// running service's HTTP API. A file is checked here first, so each problem names its line
// before anything is sent; the service checks it again against what it holds (a version in
// effect cannot change). Exits 0 on success, 1 on any problem, 2 on a usage error.
//   IO_HTTP_URL  default http://127.0.0.1:8080
//   ADMIN_TOKEN  the bearer token, when the service has one (or --token)
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { checkCatalogText, describeProblem } from '../src/catalog/catalog-check.js';
import type { ApplyReport } from '../src/catalog/catalog-service.js';
import type { Problem } from '../src/errors.js';
import { send, targetOf, type CliOutput, type Target } from './service-api.js';

export type { CliOutput } from './service-api.js';

const USAGE = `usage: npm run catalog -- apply <file> [--dry-run] [--url URL] [--token TOKEN]
       npm run catalog -- export [file] [--url URL] [--token TOKEN]`;

export async function runCatalogCli(argv: string[], output: CliOutput, environment: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { 'dry-run': { type: 'boolean' }, url: { type: 'string' }, token: { type: 'string' } } });
  } catch (error) {
    output.err(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command, file, ...rest] = parsed.positionals;
  const target = targetOf(parsed.values, environment);
  if (command === 'apply' && file !== undefined && rest.length === 0) return apply(file, parsed.values['dry-run'] ?? false, target, output);
  if (command === 'export' && rest.length === 0 && parsed.values['dry-run'] === undefined) return exportCatalog(file, target, output);
  output.err(USAGE);
  return 2;
}

async function apply(file: string, dryRun: boolean, target: Target, output: CliOutput): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    output.err(`${file}: ${(error as Error).message}`);
    return 1;
  }
  const checked = checkCatalogText(text);
  if (!checked.ok) return problems(file, checked.problems, output);
  const response = await send(target, `/v1/catalog/apply${dryRun ? '?dry_run=true' : ''}`, { method: 'POST', body: text, headers: { 'content-type': 'application/yaml' } }, output);
  if (response === undefined) return 1;
  if (!response.ok) return refused(file, response, output);
  output.out(describeReport((await response.json()) as ApplyReport));
  return 0;
}

async function exportCatalog(file: string | undefined, target: Target, output: CliOutput): Promise<number> {
  const response = await send(target, '/v1/catalog/export', { method: 'GET', headers: { accept: 'application/yaml' } }, output);
  if (response === undefined) return 1;
  if (!response.ok) return refused('export', response, output);
  const yaml = await response.text();
  if (file === undefined) output.out(yaml);
  else writeFileSync(file, yaml);
  return 0;
}

async function refused(file: string, response: Response, output: CliOutput): Promise<number> {
  const text = await response.text();
  let error: { code?: string; message?: string; problems?: Problem[] } | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch {
    error = undefined;
  }
  if (error?.problems !== undefined) return problems(file, error.problems, output, error.code);
  output.err(`${file}: ${response.status} ${error?.code ?? ''} ${error?.message ?? text}`.trim());
  return 1;
}

function problems(file: string, list: readonly Problem[], output: CliOutput, code = 'INVALID_ARGUMENT'): number {
  for (const problem of list) output.err(problem.line === undefined ? `${file}: ${describeProblem(problem)}` : `${file}:${problem.line}: ${problem.field}: ${problem.message}`);
  output.err(`${file}: refused (${code}), ${list.length} problem${list.length === 1 ? '' : 's'}; nothing was changed`);
  return 1;
}

export function describeReport(report: ApplyReport): string {
  const lines = [
    ...report.rating_groups.map((group) => `rating group ${group.id}: ${group.change}`),
    ...report.tariffs.map((tariff) => `tariff ${tariff.id}: ${tariff.change} (version ${tariff.version})`),
    ...report.plans.flatMap((plan) => [`plan ${plan.id}: ${plan.change}`, ...plan.versions.map((version) => `  version ${version.effective_from}: ${version.change}`)]),
  ];
  const { created, changed, unchanged, removed } = report.counts;
  lines.push(`${created} created, ${changed} changed, ${unchanged} unchanged, ${removed} removed${report.dry_run ? ' (dry run: nothing was written)' : ''}`);
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const output: CliOutput = { out: (text) => console.log(text), err: (text) => console.error(text) };
  process.exitCode = await runCatalogCli(process.argv.slice(2), output);
}

// The README's error table is the one users read; it must say what src/errors.ts does.
import { readFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { errorCatalogue } from '../../src/errors.js';
import { projectPath } from '../../src/paths.js';

const readme = readFileSync(projectPath('README.md'), 'utf8');

function errorRows(): Record<string, { grpc: string; http: number }> {
  const section = readme.slice(readme.indexOf('## Errors'), readme.indexOf('## Limits'));
  const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| `([A-Z_]+)` \| (\d{3}) \|/gm)];
  return Object.fromEntries(rows.map((row) => [row[1]!, { grpc: row[2]!, http: Number(row[3]) }]));
}

describe('README error table', () => {
  it('lists every code of the catalogue with its gRPC status and HTTP status, and nothing else', () => {
    const expected = Object.fromEntries(Object.entries(errorCatalogue).map(([code, entry]) => [code, { grpc: status[entry.grpc], http: entry.http }]));
    expect(errorRows()).toEqual(expected);
  });

  it('documents every environment variable the service reads', () => {
    const sources = ['src/config.ts', 'src/main.ts'].map((file) => readFileSync(projectPath(file), 'utf8')).join('\n');
    const names = [...sources.matchAll(/(?:read\.\w+\(|env\[)'([A-Z_]+)'/g)].map((match) => match[1]!);
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) expect(readme, name).toContain(`\`${name}\``);
  });

  it('names the two commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});

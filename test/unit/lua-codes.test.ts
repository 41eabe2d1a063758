// The scripts' codes and the TypeScript enums that mirror them must never drift apart.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Result, ScriptStatus } from '../../src/balance/codes.js';
import { loadScript, SCRIPT_NAMES } from '../../src/balance/scripts.js';
import { projectPath } from '../../src/paths.js';

const codes = readFileSync(projectPath('lua', 'includes', 'codes.lua'), 'utf8');

function luaTable(name: string): Record<string, string> {
  const body = new RegExp(`local ${name} = \\{([^}]*)\\}`).exec(codes)?.[1] ?? '';
  return Object.fromEntries([...body.matchAll(/(\w+) = '?([\w]+)'?/g)].map((match) => [match[1]!, match[2]!]));
}

describe('lua/includes/codes.lua and src/balance/codes.ts', () => {
  it('agree on every script status', () => {
    expect(luaTable('Status')).toEqual(Object.fromEntries(Object.entries(ScriptStatus)));
  });

  it('agree on every result code', () => {
    expect(luaTable('Result')).toEqual(Object.fromEntries(Object.entries(Result).map(([key, value]) => [key, String(value)])));
  });

  it('match the numbers of the proto\'s ResultCode', () => {
    const proto = readFileSync(projectPath('proto', 'iobilling', 'charging', 'v1', 'charging.proto'), 'utf8');
    for (const [name, value] of Object.entries(Result)) expect(proto).toContain(`RESULT_CODE_${name} = ${value};`);
  });
});

describe('every script', () => {
  it.each(SCRIPT_NAMES)('%s opens with its contract and inlines its includes', (name) => {
    const source = loadScript(name);
    expect(source.startsWith('--[[')).toBe(true);
    expect(source).not.toMatch(/^--@include/m);
    expect(source).toMatch(/KEYS\[1\]/);
  });
});

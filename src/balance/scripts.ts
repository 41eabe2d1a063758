// Loads lua/*.lua, inlines their `--@include name` lines from lua/includes/, and defines each
// as an ioredis command, which runs EVALSHA and falls back to EVAL after a Redis restart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { projectPath } from '../paths.js';

export const SCRIPT_NAMES = ['reserve', 'commit', 'release', 'charge', 'top-up', 'expire', 'balance'] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

/** The script's source with its includes inlined, each at most once. */
export function loadScript(name: string, directory = projectPath('lua')): string {
  const included = new Set<string>();
  const expand = (source: string): string =>
    source.replace(/^--@include (\S+)$/gm, (_line, include: string) => {
      if (included.has(include)) return '';
      included.add(include);
      return expand(readFileSync(join(directory, 'includes', `${include}.lua`), 'utf8'));
    });
  return expand(readFileSync(join(directory, `${name}.lua`), 'utf8'));
}

export type ScriptCaller = (name: ScriptName, key: string, ...args: string[]) => Promise<unknown>;

export function defineScripts(redis: Redis | Cluster): ScriptCaller {
  for (const name of SCRIPT_NAMES) {
    redis.defineCommand(commandName(name), { numberOfKeys: 1, lua: loadScript(name) });
  }
  const commands = redis as unknown as Record<string, (...args: string[]) => Promise<unknown>>;
  return (name, key, ...args) => commands[commandName(name)]!(key, ...args);
}

function commandName(name: ScriptName): string {
  return `io_${name.replace('-', '_')}`;
}

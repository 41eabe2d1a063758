// Files that ship beside the code (lua/, proto/, migrations) are found from the project root,
// whether this runs from src/ under vitest or from dist/src/ after a build.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    if (existsSync(join(directory, 'package.json')) && existsSync(join(directory, 'lua'))) return directory;
    directory = dirname(directory);
  }
  throw new Error('cannot find the project root (a folder with package.json and lua/)');
}

export const PROJECT_ROOT = findRoot();

export function projectPath(...parts: string[]): string {
  return join(PROJECT_ROOT, ...parts);
}

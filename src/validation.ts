// Request bodies, queries and path parts are checked with zod schemas; the first problem becomes
// an INVALID_ARGUMENT that names its field, as every transport reports it.
import { z } from 'zod';
import { AppError } from './errors.js';
import { hasControlCharacter } from './formats.js';
import { parseAmount } from './money/amount.js';

/** A positive amount as a decimal string, at most 6 decimals (parse it with parseAmount). */
export const positiveAmountText = z.string().refine((text) => {
  const parsed = parseAmount(text);
  return parsed.ok && parsed.micros > 0n;
}, 'must be a positive decimal string with at most 6 decimals');

/** Parses with a schema; the first problem becomes an AppError naming its field. */
export function parseWith<Schema extends z.ZodType>(schema: Schema, value: unknown, root = ''): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = fieldName(root, issue.path);
  throw new AppError('INVALID_ARGUMENT', issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}` : issue.message, field || 'body');
}

function fieldName(root: string, path: PropertyKey[]): string {
  let field = root;
  for (const part of path) field += typeof part === 'number' ? `[${part}]` : `${field === '' ? '' : '.'}${String(part)}`;
  return field;
}

/** Deeper than any document the service reads; the walk stops there (the schemas refuse such shapes). */
const TEXT_DEPTH_MAX = 64;

/**
 * The path of every key or string holding a control character, for inputs that do not come
 * through the HTTP body reader (a YAML catalog, whose escapes such as "\0" make any character).
 */
export function controlCharacterPaths(value: unknown, path: (string | number)[] = [], found: (string | number)[][] = []): (string | number)[][] {
  if (typeof value === 'string') {
    if (hasControlCharacter(value)) found.push(path);
  } else if (Array.isArray(value)) {
    if (path.length < TEXT_DEPTH_MAX) value.forEach((item, index) => controlCharacterPaths(item, [...path, index], found));
  } else if (value !== null && typeof value === 'object' && path.length < TEXT_DEPTH_MAX) {
    for (const [key, item] of Object.entries(value)) {
      if (hasControlCharacter(key)) found.push([...path, key]);
      else controlCharacterPaths(item, [...path, key], found);
    }
  }
  return found;
}

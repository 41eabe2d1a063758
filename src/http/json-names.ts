// proto3 JSON parsers accept a field's lowerCamelCase name as well as its proto name; the use
// cases read proto names, so camelCase keys are renamed on the way in. A field given under both
// names is refused rather than letting one silently win, and a renaming that produces a
// prototype key (`_Proto__` → `__proto__`) is refused like the key itself.
import { invalid } from '../errors.js';
import { refusePrototypeKey } from './json-body.js';

const DEPTH_MAX = 8;
const UPPER_CASE = /[A-Z]/;

export function snakeCaseKeys(value: unknown, depth = 0, field = ''): unknown {
  if (depth > DEPTH_MAX || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item, index) => snakeCaseKeys(item, depth + 1, `${field}[${index}]`));
  const renamed: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(value)) {
    // Most keys are already proto names: test before building a new string.
    const name = UPPER_CASE.test(key) ? key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`) : key;
    refusePrototypeKey(name, join(field, key));
    if (Object.hasOwn(renamed, name)) throw invalid(join(field, name), 'is given twice (as its proto name and its lowerCamelCase name)');
    renamed[name] = snakeCaseKeys((value as Record<string, unknown>)[key], depth + 1, join(field, name));
  }
  return renamed;
}

function join(field: string, key: string): string {
  return field === '' ? key : `${field}.${key}`;
}

// proto3 JSON parsers accept a field's lowerCamelCase name as well as its proto name; the use
// cases read proto names, so camelCase keys are renamed on the way in.
const DEPTH_MAX = 8;

export function snakeCaseKeys(value: unknown, depth = 0): unknown {
  if (depth > DEPTH_MAX || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => snakeCaseKeys(item, depth + 1));
  const renamed: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    renamed[key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)] = snakeCaseKeys(item, depth + 1);
  }
  return renamed;
}

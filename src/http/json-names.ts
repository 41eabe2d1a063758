// proto3 JSON parsers accept a field's lowerCamelCase name as well as its proto name; the use
// cases read proto names, so camelCase keys are renamed on the way in.
const DEPTH_MAX = 8;
const UPPER_CASE = /[A-Z]/;

export function snakeCaseKeys(value: unknown, depth = 0): unknown {
  if (depth > DEPTH_MAX || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => snakeCaseKeys(item, depth + 1));
  const renamed: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // Most keys are already proto names: test before building a new string.
    const name = UPPER_CASE.test(key) ? key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`) : key;
    renamed[name] = snakeCaseKeys(item, depth + 1);
  }
  return renamed;
}

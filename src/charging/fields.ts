// Field readers shared by every request. Each either returns a well-formed value or throws an
// INVALID_ARGUMENT that names the field in proto terms (`items[2].requested_units`), so both
// transports give the same message for the same mistake. Hand-written rather than a schema
// library because they run on every charging request, where a microsecond shows.
import { invalid } from '../errors.js';
import { ID_RULE, isId, parseRfc3339, RFC3339_RULE, UINT32_DIGITS } from '../formats.js';

export const UNITS_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const UINT32_MAX = 0xffff_ffff;
const DIGITS = /^\d{1,20}$/;
const NANOS_MAX = 999_999_999;
/** Event times are accepted from 2000 to one day ahead, so a clock gone wrong is caught. */
const EVENT_TIME_MIN_MS = Date.UTC(2000, 0, 1);
const EVENT_TIME_AHEAD_MAX_MS = 86_400_000;

export type Fields = Record<string, unknown>;

export function objectAt(value: unknown, field: string): Fields {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(field, 'must be an object');
  return value as Fields;
}

/** The fields a message has: a nested Shape for a message (or a list of them), true for any other value. */
export type Shape = { readonly [name: string]: Shape | true };

/**
 * Refuses a field the message does not have, such as a misspelt `used_unit`, which would
 * otherwise be read as a default. Called once every known field has been read, so the first
 * broken known field is reported first, as over gRPC, whose decoder drops unknown fields.
 */
export function onlyKnown(value: unknown, shape: Shape, field = ''): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => onlyKnown(item, shape, `${field}[${index}]`));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [name, item] of Object.entries(value)) {
    const path = field === '' ? name : `${field}.${name}`;
    if (!Object.hasOwn(shape, name)) throw invalid(path, 'is not a field of this message');
    const inner = shape[name]!;
    if (inner !== true) onlyKnown(item, inner, path);
  }
}

export function id(value: unknown, field: string): string {
  if (value === undefined || value === null || value === '') throw invalid(field, 'is required');
  if (!isId(value)) throw invalid(field, ID_RULE);
  return value;
}

/** A uint64 of units, as proto3 JSON allows: a decimal string or a number. */
export function units(value: unknown, field: string, required = true): bigint {
  if (value === undefined || value === null || value === '') {
    if (required) throw invalid(field, 'is required');
    return 0n;
  }
  let parsed: bigint;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) parsed = BigInt(value);
  else if (typeof value === 'string' && DIGITS.test(value)) parsed = BigInt(value);
  else throw invalid(field, 'must be a whole number of units, 0 or more');
  if (parsed > UNITS_MAX) throw invalid(field, `must be at most ${UNITS_MAX}`);
  return parsed;
}

export function uint32(value: unknown, field: string, minimum = 0): number {
  const parsed = typeof value === 'string' && UINT32_DIGITS.test(value) ? Number(value) : value;
  if (typeof parsed !== 'number' || !Number.isInteger(parsed) || parsed < minimum || parsed > UINT32_MAX) {
    throw invalid(field, `must be a whole number from ${minimum} to ${UINT32_MAX}`);
  }
  return parsed;
}

export function boolean(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw invalid(field, 'must be true or false');
  return value;
}

export function list(value: unknown, field: string, maximum: number, minimum = 0): unknown[] {
  if (value === undefined || value === null) value = [];
  if (!Array.isArray(value)) throw invalid(field, 'must be a list');
  if (value.length < minimum) throw invalid(field, `must have at least ${minimum} entr${minimum === 1 ? 'y' : 'ies'}`);
  if (value.length > maximum) throw invalid(field, `must have at most ${maximum} entries`);
  return value;
}

/**
 * A google.protobuf.Timestamp: an RFC 3339 string over HTTP, `{ seconds, nanos }` over gRPC.
 * Absent means now. Returns ms since the epoch.
 */
export function eventTime(value: unknown, field: string, nowMs: number): { ms: number; given: boolean } {
  if (value === undefined || value === null) return { ms: nowMs, given: false };
  const ms = typeof value === 'string' ? parseRfc3339(value) : timestampMessage(value, field);
  if (ms === undefined) throw invalid(field, RFC3339_RULE);
  if (ms < EVENT_TIME_MIN_MS || ms > nowMs + EVENT_TIME_AHEAD_MAX_MS) {
    throw invalid(field, 'must be between 2000-01-01 and one day from now');
  }
  return { ms, given: true };
}

/** Whole seconds (a string, as grpc-js decodes an int64) and nanos within one second, or undefined. */
function timestampMessage(value: unknown, field: string): number | undefined {
  if (typeof value !== 'object') return undefined;
  const { seconds = 0, nanos = 0 } = value as { seconds?: unknown; nanos?: unknown };
  const wholeSeconds = typeof seconds === 'string' && /^-?\d{1,16}$/.test(seconds) ? Number(seconds) : seconds;
  if (!Number.isSafeInteger(wholeSeconds)) return undefined;
  if (typeof nanos !== 'number' || !Number.isInteger(nanos) || nanos < 0 || nanos > NANOS_MAX) {
    throw invalid(field, `nanos must be a whole number from 0 to ${NANOS_MAX}`);
  }
  return (wholeSeconds as number) * 1000 + Math.floor(nanos / 1e6);
}

export interface Location {
  mcc: string;
  mnc: string;
  zone: string;
}

export function location(value: unknown, field: string): Location | undefined {
  if (value === undefined || value === null) return undefined;
  const fields = objectAt(value, field);
  const text = (name: string, pattern: RegExp, rule: string): string => {
    const raw = fields[name] ?? '';
    if (typeof raw !== 'string' || (raw !== '' && !pattern.test(raw))) throw invalid(`${field}.${name}`, rule);
    return raw;
  };
  return {
    mcc: text('mcc', /^\d{3}$/, 'must be 3 digits'),
    mnc: text('mnc', /^\d{2,3}$/, 'must be 2 or 3 digits'),
    zone: text('zone', /^[\x21-\x7e]{1,64}$/, 'must be 1 to 64 printable ASCII characters'),
  };
}

/** As the gateway sent them; zero and empty values are "not sent" (proto3 has no absence). */
export interface Attributes {
  serviceId: number;
  apn: string;
  qosClass: number;
  deviceType: string;
}

export function attributes(value: unknown, field: string): Attributes | undefined {
  if (value === undefined || value === null) return undefined;
  const fields = objectAt(value, field);
  const text = (name: string, maximum: number): string => {
    const raw = fields[name] ?? '';
    if (typeof raw !== 'string' || !/^[\x20-\x7e]*$/.test(raw) || raw.length > maximum) throw invalid(`${field}.${name}`, `must be at most ${maximum} printable ASCII characters`);
    return raw;
  };
  return {
    serviceId: uint32(fields.service_id ?? 0, `${field}.service_id`),
    apn: text('apn', 100),
    qosClass: uint32(fields.qos_class ?? 0, `${field}.qos_class`),
    deviceType: text('device_type', 64),
  };
}

// The one reader of JSON request bodies, for every route. Whatever it returns is plain data:
// objects without a prototype, so no key can reach Object.prototype or replace an object's
// prototype, whatever later code does with them.
import type { FastifyInstance } from 'fastify';
import { AppError, invalid } from '../errors.js';

/** Keys that name a prototype or its constructor in JavaScript: never a field of ours. */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** Deeper than any body the API takes (a catalog is about 6 levels), and bounds the recursion. */
const JSON_DEPTH_MAX = 32;

export function isPrototypeKey(key: string): boolean {
  return PROTOTYPE_KEYS.has(key);
}

export function refusePrototypeKey(key: string, field: string): void {
  if (isPrototypeKey(key)) throw invalid(field, 'is not allowed as a field name');
}

/** Replaces Fastify's JSON parser, so every route reads bodies through parseJsonBody. */
export function registerJsonBody(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    try {
      done(null, parseJsonBody(text as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new AppError('INVALID_ARGUMENT', 'is empty', 'body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AppError('INVALID_ARGUMENT', 'is not valid JSON', 'body');
  }
  return plainCopy(parsed, '', 0);
}

function plainCopy(value: unknown, field: string, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > JSON_DEPTH_MAX) throw invalid(field, `is nested more than ${JSON_DEPTH_MAX} levels deep`);
  if (Array.isArray(value)) return value.map((item, index) => plainCopy(item, `${field}[${index}]`, depth + 1));
  const copy: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(value)) {
    const path = field === '' ? key : `${field}.${key}`;
    refusePrototypeKey(key, path);
    copy[key] = plainCopy((value as Record<string, unknown>)[key], path, depth + 1);
  }
  return copy;
}

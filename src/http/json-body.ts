// The one reader of JSON request bodies, for every route. Whatever it returns is plain data:
// objects without a prototype, so no key can reach Object.prototype or replace an object's
// prototype, whatever later code does with them.
import type { FastifyInstance } from 'fastify';
import { AppError, invalid } from '../errors.js';
import { hasControlCharacter, TEXT_RULE } from '../formats.js';

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
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, text, done) => {
    try {
      refuseOtherCharsets(request.headers['content-type']);
      done(null, parseJsonBody(text as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

/**
 * The body is read as UTF-8, JSON's one encoding (RFC 8259): a body declared in another charset
 * would be misread, perhaps into valid JSON that says something else, so it is refused.
 */
function refuseOtherCharsets(contentType: string | undefined): void {
  for (const parameter of (contentType ?? '').split(';').slice(1)) {
    const [name = '', value = ''] = parameter.split('=').map((part) => part.trim().toLowerCase());
    if (name === 'charset' && value.replace(/^"(.*)"$/, '$1') !== 'utf-8') {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json in UTF-8 (no charset, or charset=utf-8)', 'content-type');
    }
  }
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new AppError('INVALID_ARGUMENT', 'is empty', 'body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AppError('INVALID_ARGUMENT', 'is not valid JSON', 'body');
  }
  const copy = plainCopy(parsed, '', 0);
  const repeated = repeatedKey(text);
  if (repeated !== undefined) throw invalid(repeated, 'is given twice');
  return copy;
}

/** A copy without prototypes, refusing prototype keys and control characters in any key or text. */
function plainCopy(value: unknown, field: string, depth: number): unknown {
  if (typeof value === 'string' && hasControlCharacter(value)) throw invalid(field || 'body', TEXT_RULE);
  if (value === null || typeof value !== 'object') return value;
  if (depth > JSON_DEPTH_MAX) throw invalid(field, `is nested more than ${JSON_DEPTH_MAX} levels deep`);
  if (Array.isArray(value)) return value.map((item, index) => plainCopy(item, `${field}[${index}]`, depth + 1));
  const copy: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(value)) {
    const path = joinPath(field, key);
    refusePrototypeKey(key, path);
    if (hasControlCharacter(key)) throw invalid(path, `is a field name that ${TEXT_RULE}`);
    copy[key] = plainCopy((value as Record<string, unknown>)[key], path, depth + 1);
  }
  return copy;
}

/** An object being scanned (keys seen, and the current one) or an array (the current index). */
interface Frame {
  path: string;
  keys: Set<string> | undefined;
  key: string;
  index: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The path of the first key repeated within one object, which JSON.parse would silently let
 * win. Scans text that JSON.parse has accepted and plainCopy has bounded in depth, so it only
 * needs to follow strings and brackets.
 */
function repeatedKey(text: string): string | undefined {
  const frames: Frame[] = [];
  let keyExpected = false;
  for (let position = 0; position < text.length; position++) {
    const character = text.charCodeAt(position);
    const top = frames[frames.length - 1];
    if (character === QUOTE) {
      const end = stringEnd(text, position);
      if (keyExpected && top?.keys !== undefined) {
        const key = decodeKey(text.slice(position, end + 1));
        if (top.keys.has(key)) return joinPath(top.path, key);
        top.keys.add(key);
        top.key = key;
        keyExpected = false;
      }
      position = end;
    } else if (character === 0x7b /* { */ || character === 0x5b /* [ */) {
      const isObject = character === 0x7b;
      frames.push({ path: childPath(top), keys: isObject ? new Set() : undefined, key: '', index: 0 });
      keyExpected = isObject;
    } else if (character === 0x2c /* , */ && top !== undefined) {
      if (top.keys === undefined) top.index++;
      else keyExpected = true;
    } else if (character === 0x7d /* } */ || character === 0x5d /* ] */) {
      frames.pop();
    }
  }
  return undefined;
}

/** The index of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  let position = start + 1;
  while (text.charCodeAt(position) !== QUOTE) position += text.charCodeAt(position) === BACKSLASH ? 2 : 1;
  return position;
}

function decodeKey(quoted: string): string {
  return quoted.includes('\\') ? (JSON.parse(quoted) as string) : quoted.slice(1, -1);
}

function childPath(parent: Frame | undefined): string {
  if (parent === undefined) return '';
  return parent.keys === undefined ? `${parent.path}[${parent.index}]` : joinPath(parent.path, parent.key);
}

function joinPath(field: string, key: string): string {
  return field === '' ? key : `${field}.${key}`;
}

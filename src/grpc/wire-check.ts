// A strict reading of the protobuf wire format, before protobufjs decodes a request. protobufjs's
// generated decoders trust the bytes: a field's wire type is never checked (a varint in a string
// field is read as the string's length), a uint32 keeps the low 32 bits of a longer varint, and
// a length running past a nested message is read on into its neighbours. Each of those made a
// guess out of a malformed request. This check walks the message once against the request's
// schema and names the first field at fault, so the request becomes INVALID_ARGUMENT instead.
// It also refuses text that is not UTF-8 (proto3 requires it) or holds control characters.
import { isUtf8 } from 'node:buffer';
import type * as grpc from '@grpc/grpc-js';
import { AppError, invalid } from '../errors.js';
import { TEXT_RULE } from '../formats.js';

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;
const VARINT_BYTES_MAX = 10;

const WIRE_TYPES: Record<string, number> = {
  TYPE_INT32: VARINT, TYPE_INT64: VARINT, TYPE_UINT32: VARINT, TYPE_UINT64: VARINT, TYPE_SINT32: VARINT, TYPE_SINT64: VARINT,
  TYPE_BOOL: VARINT, TYPE_ENUM: VARINT,
  TYPE_FIXED64: FIXED64, TYPE_SFIXED64: FIXED64, TYPE_DOUBLE: FIXED64,
  TYPE_FIXED32: FIXED32, TYPE_SFIXED32: FIXED32, TYPE_FLOAT: FIXED32,
  TYPE_STRING: LENGTH_DELIMITED, TYPE_BYTES: LENGTH_DELIMITED, TYPE_MESSAGE: LENGTH_DELIMITED,
};
/** Varints that must fit in 32 bits: protobufjs would keep the low bits of a longer one. */
const THIRTY_TWO_BITS = new Set(['TYPE_UINT32', 'TYPE_ENUM']);

interface FieldRule {
  name: string;
  wireType: number;
  repeated: boolean;
  /** A repeated number may come packed, as one length-delimited run. */
  packable: boolean;
  text: boolean;
  fitsIn32Bits: boolean;
  message: MessageRules | undefined;
}

type MessageRules = Map<number, FieldRule>;

/** A descriptor as @grpc/proto-loader gives it (google.protobuf.DescriptorProto as JSON). */
interface MessageDescriptor {
  field: { name: string; number: number; label: string; type: string; typeName: string }[];
}

/** Finds a message's descriptor by its full name in what loadPackageDefinition built. */
export type DescriptorLookup = (typeName: string) => MessageDescriptor;

export function messageRules(descriptor: MessageDescriptor, lookup: DescriptorLookup): MessageRules {
  const rules: MessageRules = new Map();
  for (const field of descriptor.field) {
    const wireType = WIRE_TYPES[field.type];
    if (wireType === undefined) throw new Error(`no wire type for ${field.type} (${field.name})`);
    const repeated = field.label === 'LABEL_REPEATED';
    rules.set(field.number, {
      name: field.name, wireType, repeated,
      packable: repeated && wireType !== LENGTH_DELIMITED,
      text: field.type === 'TYPE_STRING',
      fitsIn32Bits: THIRTY_TWO_BITS.has(field.type),
      message: field.type === 'TYPE_MESSAGE' ? messageRules(lookup(field.typeName), lookup) : undefined,
    });
  }
  return rules;
}

/** The problem a malformed request is refused for; the handler throws it instead of running. */
export class WireRefusal {
  constructor(readonly error: AppError) {}
}

/** The method's own deserializer, run only on bytes that pass the strict check. */
export function strictDeserializer(rules: MessageRules, decode: (bytes: Buffer) => unknown): (bytes: Buffer) => unknown {
  return (bytes) => {
    try {
      checkMessage(bytes, 0, bytes.length, rules, '');
      return decode(bytes);
    } catch (error) {
      if (error instanceof AppError) return new WireRefusal(error);
      return new WireRefusal(invalid('request', 'is not a well-formed protobuf message'));
    }
  };
}

export function withStrictDeserializers(definition: grpc.ServiceDefinition, lookup: DescriptorLookup): grpc.ServiceDefinition {
  return Object.fromEntries(Object.entries(definition).map(([name, method]) => {
    const descriptor = (method as { requestType?: { type?: MessageDescriptor } }).requestType?.type;
    if (descriptor === undefined) throw new Error(`${name}: no request descriptor to check messages against`);
    return [name, { ...method, requestDeserialize: strictDeserializer(messageRules(descriptor, lookup), method.requestDeserialize) }];
  }));
}

/** A problem found in one field's bytes; checkMessage names the field, so the happy path builds no names. */
class WireProblem {
  constructor(readonly message: string) {}
}

function checkMessage(bytes: Buffer, start: number, end: number, rules: MessageRules, path: string): void {
  let counts: Map<number, number> | undefined;
  let position = start;
  while (position < end) {
    let rule: FieldRule | undefined;
    let index = 0;
    try {
      const keyEnd = varintEnd(bytes, position, end);
      const key = smallVarint(bytes, position, keyEnd);
      const fieldNumber = Math.floor(key / 8);
      if (fieldNumber === 0) throw new WireProblem('has a field number 0, which protobuf does not allow');
      rule = rules.get(fieldNumber);
      if (rule?.repeated && rule.message !== undefined) {
        counts ??= new Map();
        index = counts.get(fieldNumber) ?? 0;
        counts.set(fieldNumber, index + 1);
      }
      position = rule === undefined ? skipUnknown(bytes, keyEnd, end, key % 8) : checkField(bytes, keyEnd, end, key % 8, rule, path, index);
    } catch (error) {
      if (error instanceof WireProblem) throw invalid(rule === undefined ? path || 'request' : fieldPath(path, rule, index), error.message);
      throw error;
    }
  }
}

function fieldPath(path: string, rule: FieldRule, index: number): string {
  const named = path === '' ? rule.name : `${path}.${rule.name}`;
  return rule.repeated && rule.message !== undefined ? `${named}[${index}]` : named;
}

/** Checks one known field's value starting at `position`; returns where the next field starts. */
function checkField(bytes: Buffer, position: number, end: number, wireType: number, rule: FieldRule, path: string, index: number): number {
  if (wireType === LENGTH_DELIMITED && rule.packable) return checkPacked(bytes, position, end, rule);
  if (wireType !== rule.wireType) throw new WireProblem(`has wire type ${wireType}; the schema's is ${rule.wireType}`);
  if (wireType === VARINT) return checkVarint(bytes, position, end, rule);
  if (wireType !== LENGTH_DELIMITED) return fixedEnd(position, end, wireType);
  const [valueStart, valueEnd] = lengthDelimited(bytes, position, end);
  if (rule.message !== undefined) checkMessage(bytes, valueStart, valueEnd, rule.message, fieldPath(path, rule, index));
  else if (rule.text) checkText(bytes, valueStart, valueEnd);
  return valueEnd;
}

function checkVarint(bytes: Buffer, position: number, end: number, rule: FieldRule): number {
  const next = varintEnd(bytes, position, end);
  // Five bytes hold 35 bits: a 32-bit value's fifth byte carries only its top 4.
  if (rule.fitsIn32Bits && (next - position > 5 || (next - position === 5 && bytes[position + 4]! > 0x0f))) {
    throw new WireProblem('is larger than 32 bits on the wire');
  }
  return next;
}

function checkPacked(bytes: Buffer, position: number, end: number, rule: FieldRule): number {
  const [valueStart, valueEnd] = lengthDelimited(bytes, position, end);
  let cursor = valueStart;
  while (cursor < valueEnd) {
    cursor = rule.wireType === VARINT ? checkVarint(bytes, cursor, valueEnd, rule) : fixedEnd(cursor, valueEnd, rule.wireType);
  }
  return valueEnd;
}

function skipUnknown(bytes: Buffer, position: number, end: number, wireType: number): number {
  if (wireType === VARINT) return varintEnd(bytes, position, end);
  if (wireType === LENGTH_DELIMITED) return lengthDelimited(bytes, position, end)[1];
  return fixedEnd(position, end, wireType);
}

/** Where a varint starting at `position` ends; refuses one cut off or longer than 10 bytes. */
function varintEnd(bytes: Buffer, position: number, end: number): number {
  const limit = Math.min(end, position + VARINT_BYTES_MAX);
  for (let cursor = position; cursor < limit; cursor++) {
    if (bytes[cursor]! < 0x80) return cursor + 1;
  }
  throw new WireProblem(end - position < VARINT_BYTES_MAX ? 'is cut off: the message ends inside a varint' : 'is a varint longer than 10 bytes');
}

/** A key or a length: a message is at most a few MiB, so 5 bytes (35 bits) are plenty and exact as a number. */
function smallVarint(bytes: Buffer, start: number, end: number): number {
  if (end - start > 5) return Number.MAX_SAFE_INTEGER;
  let value = 0;
  for (let cursor = end - 1; cursor >= start; cursor--) value = value * 128 + (bytes[cursor]! & 0x7f);
  return value;
}

function lengthDelimited(bytes: Buffer, position: number, end: number): [number, number] {
  const lengthEnd = varintEnd(bytes, position, end);
  const length = smallVarint(bytes, position, lengthEnd);
  if (length > end - lengthEnd) throw new WireProblem(`declares ${length} bytes but only ${end - lengthEnd} follow`);
  return [lengthEnd, lengthEnd + length];
}

function fixedEnd(position: number, end: number, wireType: number): number {
  const size = wireType === FIXED64 ? 8 : wireType === FIXED32 ? 4 : undefined;
  if (size === undefined) throw new WireProblem(`has wire type ${wireType}, which proto3 does not have`);
  if (position + size > end) throw new WireProblem(`is cut off: ${size} bytes declared, ${end - position} follow`);
  return position + size;
}

/**
 * UTF-8 without C0 controls, DEL or C1 controls (U+0080 to U+009F are 0xC2 0x80 to 0xC2 0x9F).
 * Text is mostly ASCII: the UTF-8 check runs only when a byte says it is not.
 */
function checkText(bytes: Buffer, start: number, end: number): void {
  let ascii = true;
  for (let cursor = start; cursor < end; cursor++) {
    const byte = bytes[cursor]!;
    if (byte < 0x20 || byte === 0x7f) throw new WireProblem(TEXT_RULE);
    if (byte >= 0x80) {
      ascii = false;
      if (byte === 0xc2 && cursor + 1 < end && bytes[cursor + 1]! >= 0x80 && bytes[cursor + 1]! < 0xa0) throw new WireProblem(TEXT_RULE);
    }
  }
  if (!ascii && !isUtf8(bytes.subarray(start, end))) throw new WireProblem('is not valid UTF-8');
}

// The six charging requests, read from a transport's decoded message (proto field names) into
// checked values. A request that passes here is within every documented limit.
import { invalid } from '../errors.js';
import { isCurrency } from '../money/currency.js';
import { parseAmount } from '../money/amount.js';
import * as read from './fields.js';

export interface RequestLimits {
  itemsPerRequestMax: number;
  isRatingGroup(ratingGroup: number): boolean;
}

export interface SessionItem {
  ratingGroup: number;
  usedUnits: bigint;
  requestedUnits: bigint;
}

export interface SessionRequest {
  operation: 'reserve' | 'commit' | 'release';
  sessionId: string;
  requestNumber: number;
  deviceId: string;
  eventTimeMs: number;
  eventTimeGiven: boolean;
  location: read.Location | undefined;
  attributes: read.Attributes | undefined;
  items: SessionItem[];
  final: boolean;
  /** Release only; empty releases them all. */
  ratingGroups: number[];
}

export interface ChargeRequest {
  eventId: string;
  deviceId: string;
  ratingGroup: number;
  units: bigint;
  eventTimeMs: number;
  eventTimeGiven: boolean;
  location: read.Location | undefined;
  attributes: read.Attributes | undefined;
}

export interface TopUpRequest {
  topUpId: string;
  customerId: string;
  amountMicros: bigint;
  currency: string;
}

export type BalanceOwner = { customerId: string } | { deviceId: string };

export interface PriceEnquiryRequest {
  deviceId: string;
  ratingGroup: number;
  units: bigint;
  eventTimeMs: number;
  location: read.Location | undefined;
  attributes: read.Attributes | undefined;
}

// The fields of each request message in charging.proto; any other is refused.
const TIMESTAMP: read.Shape = { seconds: true, nanos: true };
const LOCATION: read.Shape = { mcc: true, mnc: true, zone: true };
const ATTRIBUTES: read.Shape = { service_id: true, apn: true, qos_class: true, device_type: true };
const SESSION_HEADER: read.Shape = { session_id: true, request_number: true, device_id: true };
const RESERVE: read.Shape = { ...SESSION_HEADER, event_time: TIMESTAMP, location: LOCATION, attributes: ATTRIBUTES, items: { rating_group: true, requested_units: true } };
const COMMIT: read.Shape = {
  ...SESSION_HEADER, event_time: TIMESTAMP, location: LOCATION, attributes: ATTRIBUTES, final: true,
  items: { rating_group: true, used_units: true, requested_units: true },
};
const RELEASE: read.Shape = { ...SESSION_HEADER, rating_groups: true };
const CHARGE: read.Shape = { event_id: true, device_id: true, rating_group: true, units: true, event_time: TIMESTAMP, location: LOCATION, attributes: ATTRIBUTES };
const TOP_UP: read.Shape = { top_up_id: true, customer_id: true, amount: true, currency: true };
const PRICE_ENQUIRY: read.Shape = { device_id: true, rating_group: true, units: true, event_time: TIMESTAMP, location: LOCATION, attributes: ATTRIBUTES };

function ratingGroup(value: unknown, field: string, limits: RequestLimits): number {
  const group = read.uint32(value, field, 1);
  if (!limits.isRatingGroup(group)) throw invalid(field, `unknown rating group ${group}`);
  return group;
}

function sessionHeader(body: read.Fields, nowMs: number) {
  const time = read.eventTime(body.event_time, 'event_time', nowMs);
  return {
    sessionId: read.id(body.session_id, 'session_id'),
    requestNumber: read.uint32(body.request_number, 'request_number', 1),
    deviceId: read.id(body.device_id, 'device_id'),
    eventTimeMs: time.ms,
    eventTimeGiven: time.given,
    location: read.location(body.location, 'location'),
    attributes: read.attributes(body.attributes, 'attributes'),
  };
}

/** A reserve must ask for something; a commit may ask for nothing more. */
function requestedUnits(value: unknown, field: string, optional: boolean): bigint {
  const units = read.units(value, field, false);
  if (units === 0n && !optional) throw invalid(field, 'must be at least 1');
  return units;
}

function sessionItems(body: read.Fields, limits: RequestLimits, withUsage: boolean): SessionItem[] {
  const seen = new Set<number>();
  return read.list(body.items, 'items', limits.itemsPerRequestMax, 1).map((raw, index) => {
    const field = `items[${index}]`;
    const item = read.objectAt(raw, field);
    const group = ratingGroup(item.rating_group, `${field}.rating_group`, limits);
    if (seen.has(group)) throw invalid(`${field}.rating_group`, `rating group ${group} appears twice`);
    seen.add(group);
    return {
      ratingGroup: group,
      usedUnits: withUsage ? read.units(item.used_units, `${field}.used_units`, false) : 0n,
      requestedUnits: requestedUnits(item.requested_units, `${field}.requested_units`, withUsage),
    };
  });
}

export function parseReserve(message: unknown, limits: RequestLimits, nowMs: number): SessionRequest {
  const body = read.objectAt(message, 'request');
  const request: SessionRequest = { operation: 'reserve', ...sessionHeader(body, nowMs), items: sessionItems(body, limits, false), final: false, ratingGroups: [] };
  read.onlyKnown(body, RESERVE);
  return request;
}

export function parseCommit(message: unknown, limits: RequestLimits, nowMs: number): SessionRequest {
  const body = read.objectAt(message, 'request');
  const header = sessionHeader(body, nowMs);
  const request: SessionRequest = { operation: 'commit', ...header, items: sessionItems(body, limits, true), final: read.boolean(body.final, 'final'), ratingGroups: [] };
  read.onlyKnown(body, COMMIT);
  return request;
}

export function parseRelease(message: unknown, limits: RequestLimits, nowMs: number): SessionRequest {
  const body = read.objectAt(message, 'request');
  const seen = new Set<number>();
  const ratingGroups = read.list(body.rating_groups, 'rating_groups', limits.itemsPerRequestMax).map((value, index) => {
    const group = ratingGroup(value, `rating_groups[${index}]`, limits);
    if (seen.has(group)) throw invalid(`rating_groups[${index}]`, `rating group ${group} appears twice`);
    seen.add(group);
    return group;
  });
  // A release has no event time, location or attributes; onlyKnown below refuses them.
  const header = sessionHeader({ ...body, event_time: undefined, location: undefined, attributes: undefined }, nowMs);
  read.onlyKnown(body, RELEASE);
  return { operation: 'release', ...header, items: [], final: false, ratingGroups };
}

export function parseCharge(message: unknown, limits: RequestLimits, nowMs: number): ChargeRequest {
  const body = read.objectAt(message, 'request');
  const time = read.eventTime(body.event_time, 'event_time', nowMs);
  const units = read.units(body.units, 'units');
  if (units === 0n) throw invalid('units', 'must be at least 1');
  const request: ChargeRequest = {
    eventId: read.id(body.event_id, 'event_id'),
    deviceId: read.id(body.device_id, 'device_id'),
    ratingGroup: ratingGroup(body.rating_group, 'rating_group', limits),
    units,
    eventTimeMs: time.ms,
    eventTimeGiven: time.given,
    location: read.location(body.location, 'location'),
    attributes: read.attributes(body.attributes, 'attributes'),
  };
  read.onlyKnown(body, CHARGE);
  return request;
}

export function parseTopUp(message: unknown): TopUpRequest {
  const body = read.objectAt(message, 'request');
  const topUpId = read.id(body.top_up_id, 'top_up_id');
  const customerId = read.id(body.customer_id, 'customer_id');
  const amount = parseAmount(body.amount);
  if (!amount.ok) throw invalid('amount', amount.reason);
  if (amount.micros <= 0n) throw invalid('amount', 'must be more than 0');
  if (!isCurrency(body.currency)) throw invalid('currency', 'must be an ISO 4217 code such as "EUR"');
  read.onlyKnown(body, TOP_UP);
  return { topUpId, customerId, amountMicros: amount.micros, currency: body.currency };
}

export function parseGetBalance(message: unknown): BalanceOwner {
  const body = read.objectAt(message, 'request');
  const hasCustomer = body.customer_id !== undefined && body.customer_id !== null && body.customer_id !== '';
  const hasDevice = body.device_id !== undefined && body.device_id !== null && body.device_id !== '';
  if (hasCustomer === hasDevice) throw invalid('customer_id', 'give exactly one of customer_id and device_id');
  return hasCustomer ? { customerId: read.id(body.customer_id, 'customer_id') } : { deviceId: read.id(body.device_id, 'device_id') };
}

export function parsePriceEnquiry(message: unknown, limits: RequestLimits, nowMs: number): PriceEnquiryRequest {
  const body = read.objectAt(message, 'request');
  const request: PriceEnquiryRequest = {
    deviceId: read.id(body.device_id, 'device_id'),
    ratingGroup: ratingGroup(body.rating_group, 'rating_group', limits),
    units: read.units(body.units, 'units'),
    eventTimeMs: read.eventTime(body.event_time, 'event_time', nowMs).ms,
    location: read.location(body.location, 'location'),
    attributes: read.attributes(body.attributes, 'attributes'),
  };
  if (request.units === 0n) throw invalid('units', 'must be at least 1');
  read.onlyKnown(body, PRICE_ENQUIRY);
  return request;
}

// The charging use cases: read the request, resolve the device, rate, then apply atomically in
// Redis. Transports call these with decoded messages and get plain answers or AppErrors back;
// nothing here knows which transport called.
import { hash } from 'node:crypto';
import type { BalanceStore, ScriptReply } from '../balance/balance-store.js';
import { Result, ScriptStatus } from '../balance/codes.js';
import { AppError } from '../errors.js';
import { AMOUNT_MICROS_MAX, formatMicros } from '../money/amount.js';
import type { CatalogCache, ResolvedDevice } from './catalog-cache.js';
import type { Clock } from '../clock.js';
import type { Location, UsageAttributes } from '../rating/rate-usage.js';
import { periodsAt } from './periods.js';
import { enquire, unknownDevice, type PriceEnquiryResponse } from './price-enquiry.js';
import type { PriceList } from './price-list.js';
import { answerNeed, ItemPricer, newEventItem, newScriptItem, type Need, type ScriptItem } from './pricing.js';
import { attributesOf, locationOf } from './rating-inputs.js';
import * as requests from './requests.js';
import { SessionPositions } from './session-positions.js';
import {
  emptyItem, FINAL_UNIT_ACTION_CODES, itemResult, resultName, walletView,
  type ChargeResponse, type SessionResponse, type StoredSessionAnswer, type WalletView,
} from './responses.js';

export interface ChargingSettings {
  validitySeconds: number;
  expiryGraceSeconds: number;
  quotaThresholdPercent: number;
  idempotencyTtlSeconds: number;
  sessionAnswersMax: number;
  itemsPerRequestMax: number;
  allowancesPerRatingGroupMax: number;
  /** Sessions whose positions this process remembers, to quote their next call. */
  sessionsRememberedMax: number;
}

/** What prices the items of one call. */
interface CallPricing {
  deviceId: string;
  customerId: string;
  prices: PriceList | undefined;
  location: Location | undefined;
  attributes: UsageAttributes | undefined;
  atMs: number;
  /** The tier counters' period: the month of the call's time, in the customer's time zone. */
  tierPeriod: string;
}

/**
 * Each NEED is answered by one more call. An item may need three: the price of the usage an
 * allowance did not cover, of the grant it did not cover, and a budget answer. More happen
 * only when another request changed the same wallet in between, so a few attempts beyond that
 * are plenty before the caller is asked to retry.
 */
const NEEDS_PER_ITEM_MAX = 3;
const CONTENTION_ATTEMPTS_MAX = 4;

export class ChargingService {
  private readonly limits: requests.RequestLimits;
  private readonly positions: SessionPositions;

  constructor(
    private readonly store: BalanceStore,
    private readonly catalog: CatalogCache,
    private readonly clock: Clock,
    private readonly settings: ChargingSettings,
  ) {
    this.limits = { itemsPerRequestMax: settings.itemsPerRequestMax, isRatingGroup: (group) => catalog.isRatingGroup(group) };
    this.positions = new SessionPositions(settings.sessionsRememberedMax);
  }

  // Async, so that a request refused while it is read rejects like every other failure rather
  // than throwing before a promise exists (grpc-js would answer such a throw with UNKNOWN).
  async reserve(message: unknown): Promise<SessionResponse> {
    return this.session(requests.parseReserve(message, this.limits, this.clock.nowMs()));
  }

  async commit(message: unknown): Promise<SessionResponse> {
    return this.session(requests.parseCommit(message, this.limits, this.clock.nowMs()));
  }

  async release(message: unknown): Promise<SessionResponse> {
    return this.session(requests.parseRelease(message, this.limits, this.clock.nowMs()));
  }

  async charge(message: unknown): Promise<ChargeResponse> {
    const request = requests.parseCharge(message, this.limits, this.clock.nowMs());
    const reply = await this.withOwner(request.deviceId, (device) => this.runCharge(request, device));
    if (reply === undefined) {
      return { event_id: request.eventId, result: resultName(Result.USER_UNKNOWN), charged_amount: formatMicros(0), charged_units: '0', allowance_units: '0', currency: '' };
    }
    const answer = JSON.parse(answerOf(reply, 'event_id')) as { r: number; cur: string; cu: string; cm: string; a: string };
    return { event_id: request.eventId, result: resultName(answer.r), charged_amount: formatMicros(answer.cm), charged_units: answer.cu, allowance_units: answer.a, currency: answer.cur };
  }

  async topUp(message: unknown): Promise<{ top_up_id: string; customer_id: string; wallet: WalletView }> {
    const request = requests.parseTopUp(message);
    const reply = await this.store.topUp(request.customerId, {
      tid: request.topUpId, fp: fingerprint(['top-up', request.customerId, String(request.amountMicros), request.currency]),
      cus: request.customerId, amount: request.amountMicros.toString(), cur: request.currency,
      now: String(this.clock.nowMs()), ttl: String(this.settings.idempotencyTtlSeconds),
    });
    if (reply.status === ScriptStatus.MOVED) throw new AppError('NOT_FOUND', `customer ${request.customerId} does not exist`, 'customer_id');
    if (reply.status === ScriptStatus.CURRENCY) throw new AppError('CURRENCY_MISMATCH', `the wallet of ${request.customerId} is not in ${request.currency}`, 'currency');
    if (reply.status === ScriptStatus.LIMIT) throw new AppError('BALANCE_LIMIT', `the balance would pass ${formatMicros(AMOUNT_MICROS_MAX)}`, 'amount');
    const answer = JSON.parse(answerOf(reply, 'top_up_id')) as { bal: string; held: string; credit: string; cur: string };
    return { top_up_id: request.topUpId, customer_id: request.customerId, wallet: walletView(answer.bal, answer.held, answer.credit, answer.cur) };
  }

  /** What units would cost the device in a new session at the request's time; nothing changes. */
  async priceEnquiry(message: unknown): Promise<PriceEnquiryResponse> {
    const request = requests.parsePriceEnquiry(message, this.limits, this.clock.nowMs());
    const device = await this.catalog.resolveDevice(request.deviceId);
    if (device === undefined) return unknownDevice(request);
    const pricing = await this.callPricing(request.deviceId, device, request);
    const counter = counterName(pricing, { rg: String(request.ratingGroup), tc: this.pricer(pricing, request.ratingGroup, 'units')?.tierCounter ?? '' });
    const periodUnits = counter === '' ? 0n : await this.store.tierUnits(device.customerId, counter);
    return enquire(request, pricing.prices, this.catalog.ratingGroup(request.ratingGroup)!.unit, periodUnits);
  }

  async getBalance(message: unknown) {
    const owner = requests.parseGetBalance(message);
    const deviceId = 'deviceId' in owner ? owner.deviceId : undefined;
    const customerId = deviceId === undefined ? (owner as { customerId: string }).customerId : (await this.catalog.resolveDevice(deviceId))?.customerId;
    const stored = customerId === undefined ? undefined : await this.store.readBalance(customerId, deviceId);
    if (customerId === undefined || stored === undefined) {
      throw new AppError('NOT_FOUND', deviceId === undefined ? 'no such customer' : 'no such device', deviceId === undefined ? 'customer_id' : 'device_id');
    }
    const allowances = (Array.isArray(stored.a) ? stored.a : [])
      .filter((bucket) => deviceId === undefined || bucket.device === '' || bucket.device === deviceId)
      .sort((left, right) => left.id.localeCompare(right.id))
      .map((bucket) => ({
        allowance_id: bucket.id, rating_group: Number(bucket.rg), units_total: bucket.total, units_used: bucket.used, units_held: bucket.held,
        valid_from: new Date(Number(bucket.from)).toISOString(), valid_until: new Date(Number(bucket.until)).toISOString(),
        scope: bucket.device === '' ? 'ALLOWANCE_SCOPE_CUSTOMER' : 'ALLOWANCE_SCOPE_DEVICE', device_id: bucket.device, priority: Number(bucket.priority),
      }));
    return { customer_id: customerId, wallet: walletView(stored.bal, stored.held, stored.credit, stored.cur), allowances };
  }

  private async session(request: requests.SessionRequest): Promise<SessionResponse> {
    const reply = await this.withOwner(request.deviceId, (device) => this.runSession(request, device));
    if (reply === undefined) {
      const groups = request.operation === 'release' ? request.ratingGroups : request.items.map((item) => item.ratingGroup);
      return { session_id: request.sessionId, request_number: request.requestNumber, result: resultName(Result.USER_UNKNOWN), items: groups.map((group) => emptyItem(group, Result.USER_UNKNOWN)), currency: '' };
    }
    if (reply.status === ScriptStatus.TOO_OLD) {
      throw new AppError('REQUEST_NUMBER_TOO_OLD', 'is older than the answers kept for this session', 'request_number');
    }
    if (reply.status === ScriptStatus.LIMIT) {
      throw new AppError('BALANCE_LIMIT', `the usage would take the balance below -${formatMicros(AMOUNT_MICROS_MAX)}`, 'items');
    }
    const answer = JSON.parse(answerOf(reply, 'request_number')) as StoredSessionAnswer;
    const items = Array.isArray(answer.i) ? answer.i : [];
    return {
      session_id: request.sessionId, request_number: request.requestNumber, result: resultName(answer.r),
      items: items.map((item) => itemResult(item, this.settings)), currency: answer.cur,
    };
  }

  /**
   * Runs a script for the device's customer. A MOVED answer means the cached owner is stale:
   * resolve once more from Redis and run again. Undefined: the device is unknown.
   */
  private async withOwner(deviceId: string, run: (device: ResolvedDevice) => Promise<ScriptReply>): Promise<ScriptReply | undefined> {
    for (const fresh of [false, true]) {
      const device = await this.catalog.resolveDevice(deviceId, fresh);
      if (device === undefined) return undefined;
      const reply = await run(device);
      if (reply.status !== ScriptStatus.MOVED) return reply;
    }
    return undefined;
  }

  private async runSession(request: requests.SessionRequest, device: ResolvedDevice): Promise<ScriptReply> {
    const pricing = await this.callPricing(request.deviceId, device, request);
    const pricers = new Map<string, ItemPricer>();
    const items = request.items.map((item, index) => {
      const pricer = this.pricer(pricing, item.ratingGroup, `items[${index}].used_units`);
      if (pricer !== undefined) pricers.set(String(item.ratingGroup), pricer);
      const seen = this.positions.position(request.deviceId, request.sessionId, String(item.ratingGroup));
      return newScriptItem(item.ratingGroup, pricer, item.usedUnits, item.requestedUnits, seen, this.periodUnits(pricing, item.ratingGroup, pricer), pricing.tierPeriod);
    });
    const periods = this.capPeriods(device);
    const call = {
      sid: request.sessionId, rq: String(request.requestNumber), fp: sessionFingerprint(request),
      dev: request.deviceId, cus: device.customerId, now: String(this.clock.nowMs()), at: String(request.eventTimeMs),
      vms: String(this.settings.validitySeconds * 1000), grace: String(this.settings.expiryGraceSeconds * 1000),
      ttl: String(this.settings.idempotencyTtlSeconds), amax: String(this.settings.sessionAnswersMax),
      alim: String(this.settings.allowancesPerRatingGroupMax), day: periods.day, mon: periods.month,
      fua: FINAL_UNIT_ACTION_CODES[pricing.prices?.at(request.eventTimeMs).finalUnitAction ?? 'terminate'],
      final: request.final, items, rgs: request.ratingGroups.map(String),
    };
    const reply = await this.runPriced(items, pricers, () => this.store.session(request.operation, device.customerId, call));
    if (reply.positions !== undefined) {
      this.positions.remember(request.deviceId, request.sessionId, reply.positions, (group) => counterName(pricing, items.find((item) => item.rg === group)!));
    } else if (request.final || (request.operation === 'release' && request.ratingGroups.length === 0)) {
      this.positions.forget(request.deviceId, request.sessionId);
    }
    return reply;
  }

  private async runCharge(request: requests.ChargeRequest, device: ResolvedDevice): Promise<ScriptReply> {
    const pricing = await this.callPricing(request.deviceId, device, request);
    const pricer = this.pricer(pricing, request.ratingGroup, 'units');
    const item = newEventItem(request.ratingGroup, pricer, request.units, this.periodUnits(pricing, request.ratingGroup, pricer), pricing.tierPeriod);
    const periods = this.capPeriods(device);
    const call = {
      eid: request.eventId,
      fp: fingerprint(['charge', request.deviceId, request.ratingGroup, String(request.units), request.eventTimeGiven ? request.eventTimeMs : null, request.location ?? null, request.attributes ?? null]),
      dev: request.deviceId, cus: device.customerId, now: String(this.clock.nowMs()), at: String(request.eventTimeMs),
      ttl: String(this.settings.idempotencyTtlSeconds), alim: String(this.settings.allowancesPerRatingGroupMax),
      day: periods.day, mon: periods.month, item,
    };
    const pricers = new Map(pricer === undefined ? [] : [[item.rg, pricer]]);
    return this.runPriced([item], pricers, () => this.store.charge(device.customerId, call));
  }

  private async callPricing(deviceId: string, device: ResolvedDevice, sent: Pick<requests.ChargeRequest, 'eventTimeMs' | 'location' | 'attributes'>): Promise<CallPricing> {
    const atMs = sent.eventTimeMs;
    return {
      deviceId, customerId: device.customerId, prices: await this.catalog.pricesAt(deviceId, device, atMs),
      location: locationOf(sent.location), attributes: attributesOf(sent.attributes), atMs, tierPeriod: periodsAt(device.profile.timeZone, atMs).month,
    };
  }

  /** Undefined when nothing prices the rating group for this call: it is unrated. */
  private pricer(pricing: CallPricing, ratingGroup: number, usedField: string): ItemPricer | undefined {
    if (pricing.prices === undefined) return undefined;
    const pricer = new ItemPricer(pricing.prices, ratingGroup, this.catalog.ratingGroup(ratingGroup)!.unit, pricing.location, pricing.attributes, pricing.atMs, usedField);
    return pricer.rule === undefined ? undefined : pricer;
  }

  /** The tier counter's value as this process last saw it; 0 where the rate has no tiers. */
  private periodUnits(pricing: CallPricing, ratingGroup: number, pricer: ItemPricer | undefined): bigint {
    const counter = counterName(pricing, { rg: String(ratingGroup), tc: pricer?.tierCounter ?? '' });
    return counter === '' ? 0n : this.positions.periodUnits(counter);
  }

  /**
   * Caps limit what a device spends now, so money counts in the periods of the server's clock:
   * an event_time in the past must not reopen a day that is already spent.
   */
  private capPeriods(device: ResolvedDevice) {
    return periodsAt(device.profile.timeZone, this.clock.nowMs());
  }

  /** Calls the script, pricing what it asks for, until it answers something other than NEED. */
  private async runPriced(items: ScriptItem[], pricers: Map<string, ItemPricer>, run: () => Promise<ScriptReply>): Promise<ScriptReply> {
    const attemptsMax = NEEDS_PER_ITEM_MAX * items.length + CONTENTION_ATTEMPTS_MAX;
    for (let attempt = 0; attempt < attemptsMax; attempt++) {
      const reply = await run();
      if (reply.status !== ScriptStatus.NEED) return reply;
      const need = JSON.parse(reply.payload!) as Need;
      const item = items.find((candidate) => candidate.rg === String(need.rg));
      const pricer = pricers.get(String(need.rg));
      if (item === undefined || pricer === undefined) throw new Error(`script asked to price unknown rating group ${need.rg}`);
      answerNeed(item, pricer, need);
    }
    throw new AppError('CONTENTION', 'the balance kept changing while the request was priced; retry it');
  }
}

/** The tier counter an item counts in, named as the scripts name it (state.lua); '' for none. */
function counterName(pricing: CallPricing, item: Pick<ScriptItem, 'rg' | 'tc'>): string {
  if (item.tc === '') return '';
  return `${item.tc === 'c' ? `c:${pricing.customerId}` : `d:${pricing.deviceId}`}:${item.rg}:${pricing.tierPeriod}`;
}

function answerOf(reply: ScriptReply, keyField: string): string {
  if (reply.status === ScriptStatus.CONFLICT) {
    throw new AppError('IDEMPOTENCY_CONFLICT', 'was already used with a different payload', keyField);
  }
  if (reply.status !== ScriptStatus.OK && reply.status !== ScriptStatus.REPLAY) throw new Error(`unexpected script status ${reply.status}`);
  return reply.payload!;
}

/** A digest of everything a request asks for, so a retry with another payload is caught. */
function sessionFingerprint(request: requests.SessionRequest): string {
  return fingerprint([
    request.operation, request.deviceId, request.eventTimeGiven ? request.eventTimeMs : null, request.location ?? null, request.attributes ?? null,
    request.items.map((item) => [item.ratingGroup, String(item.usedUnits), String(item.requestedUnits)]), request.final, request.ratingGroups,
  ]);
}

/** JSON.stringify refuses bigints, so callers pass units as decimal strings. */
function fingerprint(parts: unknown[]): string {
  return hash('sha1', JSON.stringify(parts), 'base64url');
}

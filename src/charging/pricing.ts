// Prices the quantities a script asks for. The service sends the prices it expects to need
// with each call; when the script needs another (allowance covered part of a request, or the
// budget covers only part of it), it answers NEED and this module prices exactly that.
import { AppError } from '../errors.js';
import { AMOUNT_MICROS_MAX, formatMicros } from '../money/amount.js';
import { affordableUnits, rateUnits } from '../rating/rate.js';
import type { CompiledRate } from '../rating/tariff.js';

/** An item as the scripts read it: integer strings, prices keyed "<units>:<connect fee 1|0>". */
export interface ScriptItem {
  rg: string;
  used: string;
  req: string;
  rated: boolean;
  p: Record<string, string>;
  b: Record<string, { u: string; m: string }>;
  min: string;
}

export type Need =
  | { k: 'price'; rg: string; units: string; cf: '1' | '0' }
  | { k: 'budget'; rg: string; budget: string; cf: '1' | '0'; units: string };

// Gateways ask for the same few quota sizes over and over, so prices are remembered per rate.
const PRICES_REMEMBERED_MAX = 4096;
const remembered = new WeakMap<CompiledRate, Map<string, string>>();

export function price(rate: CompiledRate, units: bigint, connectFee: boolean): string {
  let prices = remembered.get(rate);
  if (prices === undefined) {
    prices = new Map();
    remembered.set(rate, prices);
  }
  const key = `${units}:${connectFee ? 1 : 0}`;
  let amount = prices.get(key);
  if (amount === undefined) {
    if (prices.size >= PRICES_REMEMBERED_MAX) prices.clear();
    amount = rateUnits(rate, units, connectFee).toString();
    prices.set(key, amount);
  }
  return amount;
}

/** Adds the prices of `units` with and without the connect fee (one computation when there is none). */
export function addPrices(item: ScriptItem, rate: CompiledRate, units: bigint): void {
  if (units === 0n) return;
  const withFee = price(rate, units, true);
  item.p[`${units}:1`] = withFee;
  item.p[`${units}:0`] = rate.connectFee.isZero() ? withFee : price(rate, units, false);
}

/**
 * `usedField` names the used units in errors, e.g. "items[2].used_units", when they are charged
 * whatever the budget (session usage); undefined when a budget bounds them (one-shot charges).
 */
export function newScriptItem(ratingGroup: number, usedUnits: bigint, requestedUnits: bigint, rate: CompiledRate | undefined, usedField: string | undefined): ScriptItem {
  const item: ScriptItem = { rg: String(ratingGroup), used: usedUnits.toString(), req: requestedUnits.toString(), rated: rate !== undefined, p: {}, b: {}, min: '0' };
  if (rate === undefined) return item;
  addPrices(item, rate, usedUnits);
  if (usedField !== undefined) assertChargeable(item, usedUnits, usedField);
  addPrices(item, rate, requestedUnits);
  item.min = price(rate, rate.incrementUnits, false);
  return item;
}

/**
 * Usage is charged whatever the budget, so its price must stay within what Lua adds exactly;
 * fewer units never cost more, so the prices the script may ask for later are bounded too.
 * (A grant needs no such check: the script only holds what a budget covers.)
 */
function assertChargeable(item: ScriptItem, usedUnits: bigint, usedField: string): void {
  const highest = item.p[`${usedUnits}:1`];
  if (highest !== undefined && BigInt(highest) > AMOUNT_MICROS_MAX) {
    throw new AppError('INVALID_ARGUMENT', `would cost more than ${formatMicros(AMOUNT_MICROS_MAX)}`, usedField);
  }
}

export function answerNeed(item: ScriptItem, rate: CompiledRate, need: Need): void {
  const connectFee = need.cf === '1';
  if (need.k === 'price') {
    item.p[`${need.units}:${need.cf}`] = price(rate, BigInt(need.units), connectFee);
    return;
  }
  const affordable = affordableUnits(rate, BigInt(need.units), BigInt(need.budget), connectFee);
  item.b[`${need.budget}:${need.cf}:${need.units}`] = { u: affordable.units.toString(), m: affordable.micros.toString() };
}

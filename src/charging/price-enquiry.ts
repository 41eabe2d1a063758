// Price enquiry (RFC 4006 PRICE_ENQUIRY): what N units of a rating group would cost a device in
// a new session at an instant, and why. It rates with the same compiled tariff and engine the
// charging path uses, so the answer is the price a charge of those units would pay.
import { Result } from '../balance/codes.js';
import { formatMicros } from '../money/amount.js';
import { NEW_SESSION } from '../rating/charge-rule.js';
import { Decimal } from '../rating/decimal.js';
import { exactToDecimal, type ExactAmount } from '../rating/exact-money.js';
import { rateUsage, type Rating, type RatingGroupUnit } from '../rating/rate-usage.js';
import type { PriceList } from './price-list.js';
import { attributesOf, locationOf } from './rating-inputs.js';
import type { PriceEnquiryRequest } from './requests.js';
import { resultName } from './responses.js';

/** Exact amounts are shown to this many decimals: finer than any price's effect on a charge. */
const EXACT_DECIMALS = 12;

export interface PriceLineView {
  interval: number;
  band: string;
  from_units: string;
  units: string;
  increments: string;
  price: string;
  per_units: string;
  amount: string;
}

export interface PriceEnquiryResponse {
  device_id: string;
  rating_group: number;
  units: string;
  result: string;
  currency: string;
  amount: string;
  connect_fee: string;
  tariff_id: string;
  zone: string;
  lines: PriceLineView[];
  reason: string;
}

export function unknownDevice(request: PriceEnquiryRequest): PriceEnquiryResponse {
  return { ...heading(request), result: resultName(Result.USER_UNKNOWN), currency: '', tariff_id: '' };
}

/**
 * `prices` is what prices the device at the request's time (its plan, else its customer's
 * tariff), and `periodUnits` its tier position now: the units a new session would start from.
 */
export function enquire(request: PriceEnquiryRequest, prices: PriceList | undefined, unit: RatingGroupUnit, periodUnits: bigint): PriceEnquiryResponse {
  if (prices === undefined) return failed(request, '', '', 'no plan or tariff prices the device');
  const { tariff, tariffId } = prices.versionAt(request.eventTimeMs);
  const usage = { ratingGroup: request.ratingGroup, unit, units: request.units, startMs: request.eventTimeMs, location: locationOf(request.location), attributes: attributesOf(request.attributes) };
  const rating = rateUsage(tariff, usage, { ...NEW_SESSION, periodUnitsBefore: periodUnits });
  if (!rating.ok) return failed(request, tariffId, tariff.currency, rating.message);
  return { ...heading(request), result: resultName(Result.SUCCESS), currency: tariff.currency, tariff_id: tariffId, ...priced(rating) };
}

function priced(rating: Rating) {
  return {
    amount: formatMicros(rating.amountMicros),
    connect_fee: rating.connectFee === null ? formatMicros(0n) : exact(rating.connectFee),
    zone: rating.zone ?? '',
    lines: rating.lines.map((line): PriceLineView => ({
      interval: line.interval, band: line.band ?? '', from_units: line.fromUnits.toString(), units: line.units.toString(),
      increments: line.increments.toString(), price: line.price, per_units: line.perUnits.toString(), amount: exact(line.amount),
    })),
  };
}

function heading(request: PriceEnquiryRequest) {
  return {
    device_id: request.deviceId, rating_group: request.ratingGroup, units: request.units.toString(),
    amount: formatMicros(0n), connect_fee: formatMicros(0n), zone: '', lines: [], reason: '',
  };
}

function failed(request: PriceEnquiryRequest, tariffId: string, currency: string, reason: string): PriceEnquiryResponse {
  return { ...heading(request), result: resultName(Result.RATING_FAILED), currency, tariff_id: tariffId, reason };
}

function exact(amount: ExactAmount): string {
  return exactToDecimal(amount).toDecimalPlaces(EXACT_DECIMALS, Decimal.ROUND_HALF_EVEN).toFixed();
}

// Answers as both transports send them: proto field names, enum names, uint64 as decimal
// strings (the proto3 JSON form, which grpc-js also accepts), amounts as decimal strings.
import { Result } from '../balance/codes.js';
import { formatMicros } from '../money/amount.js';
import type { FinalUnitActionName } from '../rating/tariff.js';

const RESULT_NAMES: Record<number, string> = {
  [Result.SUCCESS]: 'RESULT_CODE_SUCCESS',
  [Result.SERVICE_DENIED]: 'RESULT_CODE_SERVICE_DENIED',
  [Result.CREDIT_LIMIT_REACHED]: 'RESULT_CODE_CREDIT_LIMIT_REACHED',
  [Result.USER_UNKNOWN]: 'RESULT_CODE_USER_UNKNOWN',
  [Result.RATING_FAILED]: 'RESULT_CODE_RATING_FAILED',
};

export function resultName(result: number): string {
  const name = RESULT_NAMES[result];
  if (name === undefined) throw new Error(`unknown result ${result}`);
  return name;
}

/** Final-Unit-Action codes as the scripts store them: 0 means the grant is not the last. */
export const FINAL_UNIT_ACTION_CODES: Record<FinalUnitActionName, number> = { terminate: 1, redirect: 2, 'restrict-access': 3 };
const FINAL_UNIT_ACTION_NAMES = ['FINAL_UNIT_ACTION_UNSPECIFIED', 'FINAL_UNIT_ACTION_TERMINATE', 'FINAL_UNIT_ACTION_REDIRECT', 'FINAL_UNIT_ACTION_RESTRICT_ACCESS'];

export interface ItemResult {
  rating_group: number;
  result: string;
  granted_units: string;
  validity_seconds: number;
  final_unit_action: string;
  quota_threshold_units: string;
  reserved_amount: string;
  charged_amount: string;
  charged_units: string;
  allowance_units: string;
  released_amount: string;
  released_units: string;
}

export interface SessionResponse {
  session_id: string;
  request_number: number;
  result: string;
  items: ItemResult[];
  currency: string;
}

export interface ChargeResponse {
  event_id: string;
  result: string;
  charged_amount: string;
  charged_units: string;
  allowance_units: string;
  currency: string;
}

export interface WalletView {
  currency: string;
  balance: string;
  held: string;
  available: string;
  credit_limit: string;
}

/** An answer item as the scripts store it; every number an integer string but r and f. */
export interface StoredItem {
  rg: string;
  r: number;
  g: string;
  a: string;
  m: string;
  cu: string;
  cm: string;
  ru: string;
  rm: string;
  f: number;
}

export interface StoredSessionAnswer {
  r: number;
  cur: string;
  /** cjson writes an empty list as {}. */
  i: StoredItem[] | Record<string, never>;
}

export interface GrantSettings {
  validitySeconds: number;
  quotaThresholdPercent: number;
}

export function itemResult(stored: StoredItem, settings: GrantSettings): ItemResult {
  const granted = BigInt(stored.g);
  return {
    rating_group: Number(stored.rg),
    result: resultName(stored.r),
    granted_units: stored.g,
    validity_seconds: granted > 0n ? settings.validitySeconds : 0,
    final_unit_action: FINAL_UNIT_ACTION_NAMES[stored.f] ?? FINAL_UNIT_ACTION_NAMES[0]!,
    quota_threshold_units: ((granted * BigInt(settings.quotaThresholdPercent)) / 100n).toString(),
    reserved_amount: formatMicros(stored.m),
    charged_amount: formatMicros(stored.cm),
    charged_units: stored.cu,
    allowance_units: stored.a,
    released_amount: formatMicros(stored.rm),
    released_units: stored.ru,
  };
}

export function emptyItem(ratingGroup: number, result: number): ItemResult {
  return itemResult({ rg: String(ratingGroup), r: result, g: '0', a: '0', m: '0', cu: '0', cm: '0', ru: '0', rm: '0', f: 0 }, { validitySeconds: 0, quotaThresholdPercent: 0 });
}

export function walletView(balanceMicros: string, heldMicros: string, creditMicros: string, currency: string): WalletView {
  const available = BigInt(balanceMicros) + BigInt(creditMicros) - BigInt(heldMicros);
  return {
    currency,
    balance: formatMicros(balanceMicros),
    held: formatMicros(heldMicros),
    available: formatMicros(available),
    credit_limit: formatMicros(creditMicros),
  };
}

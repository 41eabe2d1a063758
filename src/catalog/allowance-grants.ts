// The allowances a plan version grants for a period, computed without I/O so that a scheduler
// can run it at any time, any number of times: a grant's id is made of its plan, allowance,
// holder and period start, so writing grants "create if absent" is idempotent. A grant is valid
// from its period's start for `validity_periods` periods, as the customer's time zone counts them.
//
// Rollover: when a grant ends as this period starts (the one of `validity_periods` periods ago),
// up to `rollover_max_units` of what it left unused are added to the new grant. Pass the unused
// units once the ended grant's holds are settled; the first computation written is the one kept.
import { createHash } from 'node:crypto';
import { ID_LENGTH_MAX } from '../formats.js';
import type { AllowanceDocument } from './catalog-document.js';
import { periodStartDate, periodStartingOn, shiftPeriodStart, localDateAt, formatLocalDate } from './local-calendar.js';

export interface GrantRequest {
  planId: string;
  customerId: string;
  /** Devices that get the device-scoped allowances: those the subscription covers. */
  deviceIds: readonly string[];
  allowances: readonly AllowanceDocument[];
  /** The customer's time zone, which periods are counted in. */
  timeZone: string;
  /** Grants are for the periods that contain this instant. */
  atMs: number;
  /** Units left unused by earlier grants, by grant id; a missing grant left none. */
  unusedUnitsByGrantId: ReadonlyMap<string, bigint>;
}

/** The fields of an allowance of the admin API (POST /v1/customers/{id}/allowances), and why. */
export interface AllowanceGrant {
  id: string;
  customerId: string;
  /** Null for a grant pooled for the customer. */
  deviceId: string | null;
  ratingGroup: number;
  /** The allowance's units plus the rollover. */
  unitsTotal: bigint;
  rolloverUnits: bigint;
  priority: number;
  validFromMs: number;
  validUntilMs: number;
  /** The local date the grant's period starts on, "YYYY-MM-DD". */
  periodStart: string;
}

const UNITS_MAX = BigInt(Number.MAX_SAFE_INTEGER);

export function allowanceGrantsAt(request: GrantRequest): AllowanceGrant[] {
  return request.allowances.flatMap((allowance) => {
    const holders = allowance.scope === 'device' ? request.deviceIds : [request.customerId];
    return holders.map((holder) => grantFor(request, allowance, holder));
  });
}

/** `<plan>:<allowance>:<device or customer>:<period start>`, or a digest of it when that is too long for an id. */
export function grantId(planId: string, allowanceName: string, holder: string, periodStart: string): string {
  const id = `${planId}:${allowanceName}:${holder}:${periodStart}`;
  if (id.length <= ID_LENGTH_MAX) return id;
  return `grant:${createHash('sha256').update(id).digest('hex')}`;
}

/** The ids of the grants that end as the grants at `request.atMs` start: their unused units roll over. */
export function rolloverSourceIds(request: Omit<GrantRequest, 'unusedUnitsByGrantId'>): string[] {
  return request.allowances.flatMap((allowance) => {
    const holders = allowance.scope === 'device' ? request.deviceIds : [request.customerId];
    return holders.map((holder) => endedGrantId(request, allowance, holder));
  });
}

function endedGrantId(request: Omit<GrantRequest, 'unusedUnitsByGrantId'>, allowance: AllowanceDocument, holder: string): string {
  const start = periodStartDate(allowance.period, localDateAt(request.timeZone, request.atMs));
  const endedStart = formatLocalDate(shiftPeriodStart(allowance.period, start, -allowance.validity_periods));
  return grantId(request.planId, allowance.name, holder, endedStart);
}

function grantFor(request: GrantRequest, allowance: AllowanceDocument, holder: string): AllowanceGrant {
  const { timeZone } = request;
  const start = periodStartDate(allowance.period, localDateAt(timeZone, request.atMs));
  const period = periodStartingOn(allowance.period, timeZone, start);
  const last = periodStartingOn(allowance.period, timeZone, shiftPeriodStart(allowance.period, start, allowance.validity_periods - 1));
  const unused = request.unusedUnitsByGrantId.get(endedGrantId(request, allowance, holder)) ?? 0n;
  const units = BigInt(allowance.units);
  // An allowance holds at most 2^53-1 units, like every unit count.
  const rolloverUnits = minimum(minimum(unused > 0n ? unused : 0n, BigInt(allowance.rollover_max_units)), UNITS_MAX - units);
  return {
    id: grantId(request.planId, allowance.name, holder, period.startDate),
    customerId: request.customerId,
    deviceId: allowance.scope === 'device' ? holder : null,
    ratingGroup: allowance.rating_group,
    unitsTotal: units + rolloverUnits,
    rolloverUnits,
    priority: allowance.priority,
    validFromMs: period.startMs,
    validUntilMs: last.endMs,
    periodStart: period.startDate,
  };
}

function minimum(first: bigint, second: bigint): bigint {
  return first < second ? first : second;
}

// Prices what a script asks for. A price depends on where the units fall: the session's
// position (units and rated money so far: intervals, connect fee, minimum and maximum), the
// period's usage (tiers), the time (bands, versions) and the location (zones). The script holds
// the true positions; the service sends quotes for the positions it expects with each call, and
// when the script finds none that fits it answers NEED with its positions and writes nothing.
// This module rates exactly that with the engine, and the service calls again.
//
// A quote is keyed by its units and session position, and is valid over a range of period
// positions (see src/rating/period-slack.ts), so that other sessions of a busy pool moving the
// period's counter do not void it.
import { AppError } from '../errors.js';
import { AMOUNT_MICROS_MAX, formatMicros } from '../money/amount.js';
import { USAGE_SPAN_MS_MAX } from '../rating/band-runs.js';
import type { RatingContext } from '../rating/charge-rule.js';
import type { CompiledRateRule, CompiledTariffDocument } from '../rating/compiled-tariff.js';
import { narrowerSlack, periodSlack, UNBOUNDED_SLACK, type PeriodSlack } from '../rating/period-slack.js';
import { affordableUsage, rateUsage, RatingInputError, selectRate, type Location, type Rating, type RatingGroupUnit, type Usage, type UsageAttributes } from '../rating/rate-usage.js';
import { contextAfter, rateAcrossVersions } from '../rating/split-usage.js';
import type { PriceList } from './price-list.js';

/** A rating group's position in its session, as the script keeps it: "<units>:<micros>:<time>". */
export interface SessionPosition {
  /** Units paid with money so far in the session. */
  units: bigint;
  /** Rated micros so far, before the rate's session minimum and maximum. */
  ratedMicros: bigint;
  /** When the units were last reported: the start of the next report's span. */
  reportedAtMs: number | null;
}

export const NEW_POSITION: SessionPosition = Object.freeze({ units: 0n, ratedMicros: 0n, reportedAtMs: null });

/** Money for units (a), their rated micros (r), valid for period positions lo..hi (any without). */
export interface Quote {
  a: string;
  r: string;
  lo?: string;
  hi?: string;
}

/** How many of the units a budget buys (u), for what (a, r), valid for period positions lo..hi. */
export interface BudgetAnswer extends Quote {
  u: string;
}

/** An item as the scripts read it: integer strings, quotes keyed as below. */
export interface ScriptItem {
  rg: string;
  used: string;
  req: string;
  rated: boolean;
  /** Whose period usage places the tiers: the customer's pool (c), the device (d), or none. */
  tc: '' | 'c' | 'd';
  /** The period the tier counter counts in (YYYYMM). */
  tp: string;
  /** The zone that prices the usage, for the journal. */
  z: string;
  /** "u:<units>:<session units>:<session micros>:<reported at>" for usage since the last report,
   *  "g:<units>:<session units>:<session micros>" for a grant at the call's time. */
  q: Record<string, Quote>;
  /** "<budget>:<units>:<session units>:<session micros>". */
  b: Record<string, BudgetAnswer>;
  /** What the next increment would cost: less budget than this makes a grant the last. */
  min: string;
}

export type Need =
  | { k: 'quote'; kind: 'u' | 'g'; rg: string; units: string; s: string; m: string; t: string; p: string }
  | { k: 'budget'; rg: string; budget: string; units: string; s: string; m: string; p: string };

/** The largest integer Lua compares exactly; ranges past it are open. */
const POSITION_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Everything that prices one rating group in one call, fixed for the call. */
export class ItemPricer {
  readonly rule: CompiledRateRule | undefined;
  readonly zone: string;
  /** Whose period usage places the rate's tiers: the pool (c), the device (d), or none. */
  readonly tierCounter: ScriptItem['tc'];
  private readonly tariff: CompiledTariffDocument;

  constructor(
    private readonly prices: PriceList,
    readonly ratingGroup: number,
    private readonly unit: RatingGroupUnit,
    private readonly location: Location | undefined,
    private readonly attributes: UsageAttributes | undefined,
    readonly atMs: number,
    /** Names the used units in errors, when usage is charged whatever the budget. */
    private readonly usedField: string | undefined,
  ) {
    this.tariff = prices.at(atMs);
    const selected = selectRate(this.tariff, { ratingGroup, location, attributes });
    this.rule = selected.ok ? selected.rule : undefined;
    this.zone = selected.ok && selected.zone >= 0 ? this.tariff.zones.names[selected.zone]! : '';
    const tiered = this.rule?.intervals.some((interval) => interval.schedules.some((schedule) => schedule.length > 1)) ?? false;
    this.tierCounter = !tiered ? '' : this.rule!.tierScope === 'customer' ? 'c' : 'd';
  }

  get finalUnitAction() {
    return this.tariff.finalUnitAction;
  }

  /** Usage reported since the session's last report, spread over that span. */
  quoteUsage(units: bigint, position: SessionPosition, periodUnits: bigint): Quote {
    const startMs = Math.max(Math.min(position.reportedAtMs ?? this.atMs, this.atMs), this.atMs - USAGE_SPAN_MS_MAX);
    const usage = this.usage(units, startMs, this.unit === 'seconds' ? undefined : this.atMs);
    const context = contextOf(position, periodUnits);
    const versions = this.prices.over(startMs, this.atMs);
    const rated = this.guard(() => rateAcrossVersions(versions, usage, context));
    // A usage an older version cannot rate (say, a zone it did not have) is rated as the call's.
    if (!rated.ok) return this.checked(this.quote(this.rate(units, startMs, context), context));
    let slack = UNBOUNDED_SLACK;
    let ratedMicros = 0n;
    let partContext = context;
    for (const part of rated.parts) {
      slack = narrowerSlack(slack, periodSlack(versions[part.version]!.tariff, part.rating, partContext));
      ratedMicros += part.rating.ratedMicros;
      partContext = contextAfter(partContext, part.usage.units, part.rating);
    }
    return this.checked(window(rated.amountMicros, ratedMicros, periodUnits, slack));
  }

  /** A grant at the call's time. */
  quoteGrant(units: bigint, position: SessionPosition, periodUnits: bigint): Quote {
    const context = contextOf(position, periodUnits);
    return this.quote(this.rate(units, this.atMs, context), context);
  }

  /** The most of `units` a budget buys at the call's time. */
  budget(budgetMicros: bigint, units: bigint, position: SessionPosition, periodUnits: bigint): BudgetAnswer {
    const context = contextOf(position, periodUnits);
    const found = this.guard(() => affordableUsage(this.tariff, this.usage(units, this.atMs, undefined), context, budgetMicros));
    if (!found.ok) throw new Error(`rating group ${this.ratingGroup} has no rate at ${this.atMs}: ${found.message}`);
    return { ...this.quote(found.rating, context), u: found.units.toString() };
  }

  private rate(units: bigint, startMs: number, context: RatingContext): Rating {
    const rating = this.guard(() => rateUsage(this.tariff, this.usage(units, startMs, undefined), context));
    if (!rating.ok) throw new Error(`rating group ${this.ratingGroup} has no rate at ${this.atMs}: ${rating.message}`);
    return rating;
  }

  private quote(rating: Rating, context: RatingContext): Quote {
    return window(rating.amountMicros, rating.ratedMicros, context.periodUnitsBefore, periodSlack(this.tariff, rating, context));
  }

  private usage(units: bigint, startMs: number, endMs: number | undefined): Usage {
    return {
      ratingGroup: this.ratingGroup, unit: this.unit, units, startMs,
      ...(endMs === undefined ? {} : { endMs }),
      ...(this.location === undefined ? {} : { location: this.location }),
      ...(this.attributes === undefined ? {} : { attributes: this.attributes }),
    };
  }

  /** Usage is charged whatever the budget, so its price must stay within what Lua adds exactly. */
  private checked(quote: Quote): Quote {
    if (BigInt(quote.a) > AMOUNT_MICROS_MAX) {
      throw new AppError('INVALID_ARGUMENT', `would cost more than ${formatMicros(AMOUNT_MICROS_MAX)}`, this.usedField ?? 'units');
    }
    return quote;
  }

  private guard<T>(rate: () => T): T {
    try {
      return rate();
    } catch (error) {
      if (error instanceof RatingInputError) throw new AppError('INVALID_ARGUMENT', error.message.slice(error.field.length + 2), this.usedField ?? 'units');
      throw error;
    }
  }
}

function contextOf(position: SessionPosition, periodUnits: bigint): RatingContext {
  return { sessionUnitsBefore: position.units, sessionRatedMicrosBefore: position.ratedMicros, periodUnitsBefore: periodUnits };
}

function window(amountMicros: bigint, ratedMicros: bigint, periodUnits: bigint, slack: PeriodSlack): Quote {
  const low = periodUnits - slack.below;
  const high = periodUnits + slack.above;
  const a = amountMicros.toString();
  const r = ratedMicros.toString();
  // Most rates have no tiers: their quotes hold everywhere and need no range to check.
  if (low <= 0n && high >= POSITION_MAX) return { a, r };
  return { a, r, lo: (low < 0n ? 0n : low).toString(), hi: (high > POSITION_MAX ? POSITION_MAX : high).toString() };
}

function usageKey(units: string, position: SessionPosition, atMs: number): string {
  return `u:${units}:${position.units}:${position.ratedMicros}:${position.reportedAtMs ?? atMs}`;
}

function grantKey(units: string, position: SessionPosition): string {
  return `g:${units}:${position.units}:${position.ratedMicros}`;
}

function budgetKey(budget: string, units: string, position: SessionPosition): string {
  return `${budget}:${units}:${position.units}:${position.ratedMicros}`;
}

/** Where a quote leaves the session: `units` more paid with money, at `rated` micros. */
function advanced(position: SessionPosition, units: bigint, quote: Quote, atMs: number): SessionPosition {
  return { units: position.units + units, ratedMicros: position.ratedMicros + BigInt(quote.r), reportedAtMs: atMs };
}

/**
 * An item with the quotes the script will most likely ask for: its usage paid with money at the
 * position the service last saw, and its grant after that. Undefined `pricer`: unrated.
 */
export function newScriptItem(ratingGroup: number, pricer: ItemPricer | undefined, usedUnits: bigint, requestedUnits: bigint, seen: SessionPosition, periodUnits: bigint, tierPeriod: string): ScriptItem {
  const item = itemWithoutQuotes(ratingGroup, pricer, usedUnits, requestedUnits, tierPeriod);
  if (pricer?.rule === undefined) return item;
  let position = seen;
  let period = item.tc === '' ? 0n : periodUnits;
  if (usedUnits > 0n) {
    const quote = pricer.quoteUsage(usedUnits, position, period);
    item.q[usageKey(item.used, position, pricer.atMs)] = quote;
    position = advanced(position, usedUnits, quote, pricer.atMs);
    if (item.tc !== '') period += usedUnits;
  }
  if (requestedUnits > 0n) item.q[grantKey(item.req, position)] = pricer.quoteGrant(requestedUnits, position, period);
  item.min = pricer.quoteGrant(1n, position, period).a;
  return item;
}

/** A one-shot event: a session of its own, its units used at once and priced like a grant at its time. */
export function newEventItem(ratingGroup: number, pricer: ItemPricer | undefined, units: bigint, periodUnits: bigint, tierPeriod: string): ScriptItem {
  const item = itemWithoutQuotes(ratingGroup, pricer, units, 0n, tierPeriod);
  if (pricer?.rule === undefined) return item;
  item.q[grantKey(item.used, NEW_POSITION)] = pricer.quoteGrant(units, NEW_POSITION, item.tc === '' ? 0n : periodUnits);
  return item;
}

function itemWithoutQuotes(ratingGroup: number, pricer: ItemPricer | undefined, usedUnits: bigint, requestedUnits: bigint, tierPeriod: string): ScriptItem {
  const rated = pricer?.rule !== undefined;
  return {
    rg: String(ratingGroup), used: usedUnits.toString(), req: requestedUnits.toString(), rated,
    tc: rated ? pricer.tierCounter : '', tp: tierPeriod, z: rated ? pricer.zone : '', q: {}, b: {}, min: '0',
  };
}

export function answerNeed(item: ScriptItem, pricer: ItemPricer, need: Need): void {
  const position: SessionPosition = { units: BigInt(need.s), ratedMicros: BigInt(need.m), reportedAtMs: need.k === 'quote' ? Number(need.t) : null };
  const periodUnits = BigInt(need.p);
  if (need.k === 'budget') {
    item.b[budgetKey(need.budget, need.units, position)] = pricer.budget(BigInt(need.budget), BigInt(need.units), position, periodUnits);
  } else if (need.kind === 'u') {
    const units = BigInt(need.units);
    const quote = pricer.quoteUsage(units, position, periodUnits);
    item.q[usageKey(need.units, position, pricer.atMs)] = quote;
    // The grant comes next, from where this usage leaves the session.
    const after = advanced(position, units, quote, pricer.atMs);
    if (item.req !== '0') item.q[grantKey(item.req, after)] = pricer.quoteGrant(BigInt(item.req), after, item.tc === '' ? 0n : periodUnits + units);
  } else {
    item.q[grantKey(need.units, position)] = pricer.quoteGrant(BigInt(need.units), position, periodUnits);
  }
}

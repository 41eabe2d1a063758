// A prepaid customer's statement for a billing period, read from the journal alone: the opening
// balance, the top-ups, the usage by rating group, and the closing balance. The statement must
// add up (closing = opening + top-ups − charges); if the journal ever said otherwise, that is a
// bug, and the statement is refused rather than shown wrong.
import type pg from 'pg';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { ID_RULE, isId, parseRfc3339, RFC3339_RULE } from '../formats.js';
import { formatMicros } from '../money/amount.js';
import { billingPeriodAt, type BillingPeriod } from './billing-cycle.js';
import { usageByRatingGroup } from './journal-usage.js';

export interface StatementView {
  customer_id: string;
  currency: string;
  period: { start_date: string; end_date: string; start: string; end: string; closed: boolean };
  opening_balance: string;
  top_ups: string;
  usage: { rating_group: number; units: string; amount: string }[];
  charges: string;
  closing_balance: string;
}

interface CustomerRow {
  currency: string;
  time_zone: string;
  anniversary_day: number | null;
}

export class StatementService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: Clock,
  ) {}

  /** The statement of the billing period containing `at` (RFC 3339; now when absent). */
  async statement(customerId: string, at: string | undefined): Promise<StatementView> {
    if (!isId(customerId)) throw new AppError('INVALID_ARGUMENT', ID_RULE, 'id');
    const atMs = at === undefined ? this.clock.nowMs() : parseRfc3339(at);
    if (atMs === undefined) throw new AppError('INVALID_ARGUMENT', RFC3339_RULE, 'at');
    const customer = await this.customer(customerId);
    const period = billingPeriodAt({ timeZone: customer.time_zone, anniversaryDay: customer.anniversary_day }, atMs);
    const [openingAfter, closingAfter, totals, usage] = await Promise.all([
      this.balanceBefore(customerId, period.startMs),
      this.balanceBefore(customerId, period.endMs),
      this.totals(customerId, period),
      usageByRatingGroup(this.pool, customerId, { occurredFromMs: period.startMs, occurredBeforeMs: period.endMs }),
    ]);
    // A wallet opens at zero; a period without events closes where it opened.
    const opening = openingAfter ?? 0n;
    const closingMicros = closingAfter ?? opening;
    if (opening + totals.toppedUp - totals.charged !== closingMicros) {
      throw new Error(`statement of ${customerId} for ${period.startDate}: ${opening} + ${totals.toppedUp} − ${totals.charged} ≠ ${closingMicros}`);
    }
    return {
      customer_id: customerId, currency: customer.currency,
      period: { start_date: period.startDate, end_date: period.endDate, start: iso(period.startMs), end: iso(period.endMs), closed: period.endMs <= this.clock.nowMs() },
      opening_balance: formatMicros(opening), top_ups: formatMicros(totals.toppedUp),
      usage: usage.map((line) => ({ rating_group: line.ratingGroup, units: line.units.toString(), amount: formatMicros(line.amountMicros) })),
      charges: formatMicros(totals.charged),
      closing_balance: formatMicros(closingMicros),
    };
  }

  private async customer(customerId: string): Promise<CustomerRow> {
    const { rows } = await this.pool.query<CustomerRow>('SELECT currency, time_zone, anniversary_day FROM customers WHERE id = $1', [customerId]);
    if (rows[0] === undefined) throw new AppError('NOT_FOUND', `customer ${customerId} does not exist`, 'id');
    return rows[0];
  }

  /** The wallet's balance after its last event before the instant; undefined when it had none. */
  private async balanceBefore(customerId: string, beforeMs: number): Promise<bigint | undefined> {
    const { rows } = await this.pool.query<{ balance: string }>(
      `SELECT balance_after_micros AS balance FROM journal_events WHERE customer_id = $1 AND occurred_at < $2
       ORDER BY occurred_at DESC, stream_partition DESC, length(stream_id) DESC, stream_id DESC LIMIT 1`,
      [customerId, new Date(beforeMs)]);
    return rows[0] === undefined ? undefined : BigInt(rows[0].balance);
  }

  private async totals(customerId: string, period: BillingPeriod): Promise<{ toppedUp: bigint; charged: bigint }> {
    const { rows } = await this.pool.query<{ topped_up: string; charged: string }>(
      `SELECT coalesce(sum(topped_up_micros), 0) AS topped_up, coalesce(sum(charged_micros), 0) AS charged
       FROM journal_events WHERE customer_id = $1 AND occurred_at >= $2 AND occurred_at < $3`,
      [customerId, new Date(period.startMs), new Date(period.endMs)]);
    return { toppedUp: BigInt(rows[0]!.topped_up), charged: BigInt(rows[0]!.charged) };
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

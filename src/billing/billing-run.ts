// Billing runs: every postpaid or hybrid customer whose billing period has closed gets its
// invoice for that period, once. Its lines are the recurring fees of its plans, the usage per
// rating group read from the journal (usage an allowance covered shows at zero cost), the
// customer's discount on them, and per tax rate the tax of every line,
// rounded half-even to a micro-unit line by line and then added up, so each line's tax is what a
// reader recomputes from it. The total is the sum of the lines, checked before anything is
// written. Invoices are numbered without gaps per issuer and year of issue, from a counter taken
// in the same transaction, and a run repeated for the same instant finds every invoice made. A
// customer's unallocated credit (overpayments) pays a new invoice as it is issued.
import type pg from 'pg';
import type { Clock } from '../clock.js';
import { inTransaction } from '../db/database.js';
import { Decimal } from '../rating/decimal.js';
import { AppError } from '../errors.js';
import { parseLocalDate, startOfLocalDateMs } from '../catalog/local-calendar.js';
import { billingPeriodAt, type BillingPeriod } from './billing-cycle.js';
import type { FeeDocument } from '../catalog/catalog-document.js';
import { overlap, recurringFeeLines } from '../catalog/recurring-fees.js';
import { usageByRatingGroup, type RatingGroupUsage } from './journal-usage.js';
import { VolumeAdjustments } from './volume-adjustments.js';
import { allocateCredit } from './payments.js';

export interface BillingRunReport {
  as_of: string;
  invoiced: string[];
  /** Drafts made or refreshed: periods still within the grace before they are issued. */
  drafts: string[];
  /** Customers whose invoice for their last closed period already existed. */
  already_invoiced: number;
  /** Customers with no usage in their last closed period: nothing to invoice. */
  nothing_to_invoice: number;
}

interface BilledCustomer {
  id: string;
  currency: string;
  time_zone: string;
  anniversary_day: number | null;
  payment_terms_days: number;
  tax_rates: { name: string; percent: string }[];
  discount_percent: string;
}

interface Line {
  kind: 'fee' | 'usage' | 'adjustment' | 'discount' | 'tax';
  description: string;
  deviceId?: string | null;
  ratingGroup: number | null;
  zone?: string | null;
  units: bigint | null;
  amountMicros: bigint;
}

interface SubscriptionRow {
  device_id: string | null;
  valid_from: Date;
  valid_until: Date | null;
  fees: FeeDocument[];
}

const ISSUER = 'INV';
/** Drafts are named by customer and period until they are issued and numbered. */
const DRAFT_PREFIX = 'DRAFT-';
const CUSTOMERS_PER_BATCH = 200;
const DAY_MS = 86_400_000;
/** A bound on the walk back to a customer's last invoice: twenty years of monthly periods. */
const MISSED_PERIODS_MAX = 240;

/** The billing settings a run reads, of the customers table (as `alias`). */
function customerColumns(alias = ''): string {
  return `${['id', 'currency', 'time_zone', 'anniversary_day', 'payment_terms_days', 'tax_rates'].map((column) => alias + column).join(', ')}, ${alias}discount_percent::text AS discount_percent`;
}

export interface BillingSettings {
  /** How long after its period closes an invoice stays a draft; 0 issues it at once. */
  invoiceGraceMs: number;
}

export class BillingRun {
  private readonly volume: VolumeAdjustments;

  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: Clock,
    private readonly settings: BillingSettings = { invoiceGraceMs: 0 },
  ) {
    this.volume = new VolumeAdjustments(pool);
  }

  /**
   * Invoices, for every customer billed by invoice, each period closed at `asOfMs` (now by
   * default) since its last invoice, oldest first: a run that did not happen for a while misses
   * nothing. A customer's first invoice is for its last closed period.
   */
  async run(asOfMs = this.clock.nowMs()): Promise<BillingRunReport> {
    const report: BillingRunReport = { as_of: new Date(asOfMs).toISOString(), invoiced: [], drafts: [], already_invoiced: 0, nothing_to_invoice: 0 };
    for (let after = ''; ;) {
      const { rows } = await this.pool.query<BilledCustomer>(
        `SELECT ${customerColumns()} FROM customers WHERE billing_mode IN ('postpaid', 'hybrid') AND id > $1 ORDER BY id LIMIT $2`, [after, CUSTOMERS_PER_BATCH]);
      for (const customer of rows) {
        const periods = await this.periodsToInvoice(customer, asOfMs);
        if (periods.length === 0) report.already_invoiced++;
        for (const period of periods) {
          const outcome = await this.invoice(customer, period, asOfMs);
          if (outcome === 'already') report.already_invoiced++;
          else if (outcome === 'nothing') report.nothing_to_invoice++;
          else if (outcome.startsWith(DRAFT_PREFIX)) report.drafts.push(outcome);
          else report.invoiced.push(outcome);
        }
      }
      if (rows.length < CUSTOMERS_PER_BATCH) return report;
      after = rows[rows.length - 1]!.id;
    }
  }

  /** Issues a draft now, before its grace has passed, with the usage journaled so far. */
  async issue(invoiceId: string): Promise<{ invoice_id: string }> {
    const { rows } = await this.pool.query<BilledCustomer & { period_start: string }>(
      `SELECT ${customerColumns('c.')}, i.period_start::text AS period_start FROM invoices i JOIN customers c ON c.id = i.customer_id
       WHERE i.id = $1 AND i.status = 'draft'`, [invoiceId]);
    const draft = rows[0];
    if (draft === undefined) throw new AppError('NOT_FOUND', `invoice ${invoiceId} is not a draft`, 'id');
    const cycle = { timeZone: draft.time_zone, anniversaryDay: draft.anniversary_day };
    const period = billingPeriodAt(cycle, startOfLocalDateMs(cycle.timeZone, parseLocalDate(draft.period_start)));
    const issued = await this.invoice(draft, period, this.clock.nowMs(), true);
    if (issued === 'already' || issued === 'nothing') throw new AppError('CONFLICT', `invoice ${invoiceId} was ${issued === 'already' ? 'issued meanwhile' : 'left with nothing to invoice'}`, 'id');
    return { invoice_id: issued };
  }

  /** The customer's drafts, to refresh or issue, then the periods closed since its last invoice or draft. */
  private async periodsToInvoice(customer: BilledCustomer, asOfMs: number): Promise<BillingPeriod[]> {
    const cycle = { timeZone: customer.time_zone, anniversaryDay: customer.anniversary_day };
    const lastClosed = billingPeriodAt(cycle, billingPeriodAt(cycle, asOfMs).startMs - 1);
    const { rows } = await this.pool.query<{ last: string | null; drafts: string[] | null }>(
      `SELECT max(period_start)::text AS last, array_agg(period_start::text ORDER BY period_start) FILTER (WHERE status = 'draft') AS drafts
       FROM invoices WHERE customer_id = $1`, [customer.id]);
    const drafts = (rows[0]?.drafts ?? []).map((date) => billingPeriodAt(cycle, startOfLocalDateMs(cycle.timeZone, parseLocalDate(date))));
    const last = rows[0]?.last ?? null;
    if (last === null) return [lastClosed];
    const periods: BillingPeriod[] = [];
    for (let period = lastClosed; period.startDate > last && periods.length < MISSED_PERIODS_MAX; period = billingPeriodAt(cycle, period.startMs - 1)) {
      periods.push(period);
    }
    return [...drafts, ...periods.reverse()];
  }

  /**
   * The id of the invoice made, or of the draft made or refreshed while the period is within its
   * grace (`issueNow` ends it early); 'already' when the period was issued before, 'nothing'
   * without fees or usage.
   */
  private async invoice(customer: BilledCustomer, period: BillingPeriod, asOfMs: number, issueNow = false): Promise<string> {
    const lines = await this.lines(customer, period, asOfMs);
    if (!lines.some((line) => line.kind === 'fee' || line.kind === 'usage')) return 'nothing';
    const subtotal = sum(lines.filter((line) => line.kind !== 'tax'));
    const tax = sum(lines.filter((line) => line.kind === 'tax'));
    if (subtotal + tax !== sum(lines)) throw new Error(`invoice of ${customer.id}: the total is not the sum of its lines`);
    const issue = issueNow || asOfMs >= period.endMs + this.settings.invoiceGraceMs;
    return inTransaction(this.pool, async (client) => {
      await client.query('SELECT 1 FROM customers WHERE id = $1 FOR UPDATE', [customer.id]);
      const existing = await client.query<{ id: string; status: string }>(
        'SELECT id, status FROM invoices WHERE customer_id = $1 AND period_start = $2', [customer.id, period.startDate]);
      if (existing.rows[0] !== undefined && existing.rows[0].status !== 'draft') return 'already';
      // A draft is written anew each time, and gives way to the issued invoice.
      if (existing.rows[0] !== undefined) {
        await client.query('DELETE FROM invoice_lines WHERE invoice_id = $1', [existing.rows[0].id]);
        await client.query('DELETE FROM invoices WHERE id = $1', [existing.rows[0].id]);
      }
      const id = issue ? await nextNumber(client, ISSUER, new Date(asOfMs).getUTCFullYear()) : `${DRAFT_PREFIX}${customer.id}-${period.startDate}`;
      await client.query(
        `INSERT INTO invoices (id, customer_id, period_start, period_end, currency, status, subtotal_micros, tax_micros, total_micros, issued_at, due_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [id, customer.id, period.startDate, period.endDate, customer.currency, issue ? 'issued' : 'draft', subtotal, tax, subtotal + tax,
          issue ? new Date(asOfMs) : null, issue ? new Date(asOfMs + customer.payment_terms_days * DAY_MS) : null]);
      await client.query(
        `INSERT INTO invoice_lines (invoice_id, position, kind, description, device_id, rating_group, zone, units, amount_micros)
         SELECT $1, l.position, l.kind, l.description, l.device_id, l.rating_group, l.zone, l.units, l.amount_micros
         FROM jsonb_to_recordset($2::jsonb) AS l(position integer, kind text, description text, device_id text, rating_group integer, zone text, units bigint, amount_micros bigint)`,
        [id, JSON.stringify(lines.map((line, index) => ({
          position: index + 1, kind: line.kind, description: line.description, device_id: line.deviceId ?? null, rating_group: line.ratingGroup,
          zone: line.zone ?? null, units: line.units?.toString() ?? null, amount_micros: line.amountMicros.toString(),
        })))]);
      // Credit left by earlier overpayments pays the new invoice first.
      if (issue) await allocateCredit(client, customer.id);
      return id;
    });
  }

  /**
   * Usage of the period journaled by the run, and usage of earlier periods journaled after the
   * customer's previous invoice was issued: late, labelled so, and on no other invoice.
   */
  private async lines(customer: BilledCustomer, period: BillingPeriod, asOfMs: number): Promise<Line[]> {
    const usage = await usageByRatingGroup(this.pool, customer.id, { occurredFromMs: period.startMs, occurredBeforeMs: period.endMs, journaledUntilMs: asOfMs }, true);
    const periodUsage = usage.flatMap((group) => usageLines(group, ''));
    const adjustments = (await this.volume.of(customer, period, asOfMs)).map((adjustment): Line => ({
      kind: 'adjustment', description: `volume tier adjustment, rating group ${adjustment.ratingGroup}, ${adjustment.month}`, deviceId: adjustment.deviceId,
      ratingGroup: adjustment.ratingGroup, units: adjustment.units, amountMicros: adjustment.amountMicros,
    }));
    const charged = [...(await this.feeLines(customer, period)), ...periodUsage, ...(await this.lateUsageLines(customer, period, asOfMs)), ...adjustments];
    const taxed = [...charged, ...discountLines(customer, charged)];
    const taxLines: Line[] = customer.tax_rates.map((rate) => ({
      kind: 'tax', description: `${rate.name} ${rate.percent}%`, ratingGroup: null, units: null,
      amountMicros: taxed.reduce((total, line) => total + taxOf(line.amountMicros, rate.percent), 0n),
    }));
    return [...taxed, ...taxLines];
  }

  private async lateUsageLines(customer: BilledCustomer, period: BillingPeriod, asOfMs: number): Promise<Line[]> {
    const previous = await this.pool.query<{ issued_at: Date }>(
      `SELECT issued_at FROM invoices WHERE customer_id = $1 AND period_start < $2 AND status <> 'draft' ORDER BY period_start DESC LIMIT 1`, [customer.id, period.startDate]);
    // Before a customer's first invoice nothing was invoiced, so nothing can be late.
    if (previous.rows[0] === undefined) return [];
    const late = await usageByRatingGroup(this.pool, customer.id, {
      occurredBeforeMs: period.startMs, journaledAfterMs: previous.rows[0].issued_at.getTime(), journaledUntilMs: asOfMs,
    }, true);
    return late.flatMap((group) => usageLines(group, `, late usage from before ${period.startDate}`));
  }

  /**
   * The recurring fees of the plans in force during the period, each in the version in force when
   * its subscription starts in it: a customer's plan charges its devices that have no plan of
   * their own, and the customer; a device's own plan charges that device. Prorated by the days
   * each was covered in the fee's period (see recurring-fees.ts).
   */
  private async feeLines(customer: BilledCustomer, period: BillingPeriod): Promise<Line[]> {
    const [{ rows: subscriptions }, { rows: devices }] = await Promise.all([
      this.pool.query<SubscriptionRow>(
        `SELECT s.device_id, s.valid_from, s.valid_until, v.fees FROM subscriptions s
         JOIN LATERAL (SELECT fees FROM plan_versions WHERE plan_id = s.plan_id AND effective_from <= greatest(s.valid_from, $2)
                       ORDER BY effective_from DESC LIMIT 1) v ON true
         WHERE s.customer_id = $1 AND s.valid_from < $3 AND (s.valid_until IS NULL OR s.valid_until > $2)`,
        [customer.id, new Date(period.startMs), new Date(period.endMs)]),
      this.pool.query<{ id: string; activated_at: Date; deactivated_at: Date | null }>(
        'SELECT id, activated_at, deactivated_at FROM devices WHERE customer_id = $1 ORDER BY id', [customer.id]),
    ]);
    const ownPlans = new Set(subscriptions.flatMap((row) => (row.device_id === null ? [] : [row.device_id])));
    return subscriptions.flatMap((subscription) => {
      const span = { fromMs: subscription.valid_from.getTime(), untilMs: subscription.valid_until?.getTime() ?? null };
      const covered = devices.filter((device) => (subscription.device_id === null ? !ownPlans.has(device.id) : device.id === subscription.device_id));
      const fees = subscription.device_id === null ? subscription.fees : subscription.fees.filter((fee) => fee.per === 'device');
      return recurringFeeLines({
        fees, customerId: customer.id, timeZone: customer.time_zone, atMs: period.startMs, customer: span,
        // A device is charged for the days its plan covered it while it was in service.
        devices: covered.map((device) => ({ id: device.id, active: overlap(span, { fromMs: device.activated_at.getTime(), untilMs: device.deactivated_at?.getTime() ?? null }) })),
      }).map((fee): Line => ({
        kind: 'fee', description: `${fee.fee}, ${fee.activeDays} of ${fee.periodDays} days`, deviceId: fee.deviceId,
        ratingGroup: null, units: null, amountMicros: fee.amountMicros,
      }));
    });
  }
}

/**
 * The usage lines of a rating group and zone, as the journal has them: what was charged, and what
 * allowances covered, shown apart at zero cost.
 */
function usageLines(usage: RatingGroupUsage, label: string): Line[] {
  const description = `rating group ${usage.ratingGroup}${usage.zone === null ? '' : `, zone ${usage.zone}`}`;
  const line = (text: string, units: bigint, amountMicros: bigint): Line => ({ kind: 'usage', description: text, ratingGroup: usage.ratingGroup, zone: usage.zone, units, amountMicros });
  const charged = usage.units - usage.allowanceUnits;
  return [
    ...(charged > 0n || usage.amountMicros !== 0n ? [line(`${description}${label}`, charged, usage.amountMicros)] : []),
    ...(usage.allowanceUnits > 0n ? [line(`${description}, from allowances${label}`, usage.allowanceUnits, 0n)] : []),
  ];
}

/** The customer's discount on its fees and usage, one line before tax, rounded half-even. */
function discountLines(customer: BilledCustomer, charged: readonly Line[]): Line[] {
  if (new Decimal(customer.discount_percent).isZero()) return [];
  const percent = new Decimal(customer.discount_percent).toString();
  const amountMicros = -taxOf(sum(charged), percent);
  return amountMicros === 0n ? [] : [{ kind: 'discount', description: `discount ${percent}%`, ratingGroup: null, units: null, amountMicros }];
}

/** A line's tax (or a discount) at `percent`, rounded half-even to a micro-unit. */
function taxOf(amountMicros: bigint, percent: string): bigint {
  return BigInt(new Decimal(amountMicros.toString()).times(percent).dividedBy(100).toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).toFixed(0));
}

function sum(lines: readonly Line[]): bigint {
  return lines.reduce((total, line) => total + line.amountMicros, 0n);
}

/**
 * The next number of a series (INV for invoices, CN for credit notes) in a year, from a counter
 * row locked until the transaction ends: no gaps, no repeats.
 */
export async function nextNumber(client: pg.PoolClient, series: string, year: number): Promise<string> {
  const { rows } = await client.query<{ last_number: number }>(
    `INSERT INTO invoice_counters (issuer, year, last_number) VALUES ($1, $2, 1)
     ON CONFLICT (issuer, year) DO UPDATE SET last_number = invoice_counters.last_number + 1
     RETURNING last_number`, [series, year]);
  return `${series}-${year}-${String(rows[0]!.last_number).padStart(6, '0')}`;
}

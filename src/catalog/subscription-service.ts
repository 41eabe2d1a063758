// Subscriptions over the admin API: a customer, or one of its devices, subscribes to a plan from
// an instant on. The row in force then is closed there, and changes scheduled after it are
// replaced, so a subscriber's rows never overlap. A start in the past is refused: it would
// reprice usage already charged.
import type pg from 'pg';
import { z } from 'zod';
import type { Projection } from '../balance/projection.js';
import type { Clock } from '../clock.js';
import { inTransaction } from '../db/database.js';
import { markForProjection, projectMarked } from '../provisioning/pending-projections.js';
import { AppError, invalid } from '../errors.js';
import { ID_RULE, isId } from '../formats.js';
import { parseWith } from '../validation.js';
import { formatInstant, instantMs, instantText } from './catalog-document.js';
import { subscriptionAt, type SubscriptionSpan } from './subscriptions.js';

export type Subscriber = { kind: 'customer' | 'device'; id: string };

export interface SubscriptionView {
  plan_id: string;
  from: string;
  until: string | null;
}

export interface SubscriptionsView {
  customer_id: string;
  /** Null for the customer's own subscription. */
  device_id: string | null;
  /** The subscription in force now, if any. */
  current: SubscriptionView | null;
  /** The latest ones, oldest first, including those scheduled. */
  items: SubscriptionView[];
}

const SUBSCRIPTIONS_LISTED_MAX = 100;
/** Subscribers projected per query at a first start. */
const PROJECTION_BATCH = 500;

const subscriptionBody = z.strictObject({
  plan_id: z.string('must be the id of a plan').refine(isId, ID_RULE),
  from: instantText.optional(),
});

interface SubscriptionRow {
  id: string;
  plan_id: string;
  valid_from: Date;
  valid_until: Date | null;
}

interface SubscriberRow {
  customer_id: string;
  device_id: string | null;
  currency: string;
}

export class SubscriptionService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly projection: Projection,
    private readonly clock: Clock,
  ) {}

  async put(subscriber: Subscriber, body: unknown): Promise<SubscriptionsView> {
    const input = parseWith(subscriptionBody, body);
    const nowMs = this.clock.nowMs();
    const fromMs = input.from === undefined ? nowMs : instantMs(input.from);
    if (fromMs < nowMs) throw invalid('from', `must not be before now (${formatInstant(nowMs)}): usage already charged cannot be repriced`);
    const { owner, rows, mark } = await inTransaction(this.pool, async (client) => {
      const locked = await lockSubscriber(client, subscriber);
      await requirePlan(client, input.plan_id, locked.currency);
      await subscribe(client, locked, input.plan_id, new Date(fromMs));
      return { owner: locked, rows: await listRows(client, locked), mark: await markForProjection(client, 'subscriptions', subscriberKey(subscriber)) };
    });
    // After the commit, as provisioning does: a failed projection stays marked for the repair.
    await projectMarked(this.pool, 'subscriptions', subscriberKey(subscriber), mark, () => this.projectRows(owner, rows));
    return view(owner, rows, nowMs);
  }

  /** The projection repair's step for a subscriber (`customer:<id>` or `device:<id>`), under its writers' lock. */
  async reproject(client: pg.PoolClient, key: string): Promise<void> {
    const separator = key.indexOf(':');
    const owner = await lockSubscriber(client, { kind: key.slice(0, separator) as Subscriber['kind'], id: key.slice(separator + 1) });
    await this.projectRows(owner, await listRows(client, owner));
  }

  /** Writes every subscriber's spans where the online path reads them, in batches, at a first start. */
  async projectAll(): Promise<number> {
    let after = { customer: '', device: '' };
    let count = 0;
    for (;;) {
      const { rows } = await this.pool.query<SubscriberRow>(
        `SELECT DISTINCT s.customer_id, s.device_id, c.currency FROM subscriptions s JOIN customers c ON c.id = s.customer_id
         WHERE (s.customer_id, coalesce(s.device_id, '')) > ($1, $2) ORDER BY s.customer_id, s.device_id NULLS FIRST LIMIT $3`,
        [after.customer, after.device, PROJECTION_BATCH]);
      for (const owner of rows) {
        await this.projectRows(owner, await inTransaction(this.pool, (client) => listRows(client, owner), { readOnly: true }));
      }
      count += rows.length;
      const last = rows.at(-1);
      if (last === undefined || rows.length < PROJECTION_BATCH) return count;
      after = { customer: last.customer_id, device: last.device_id ?? '' };
    }
  }

  private projectRows(owner: SubscriberRow, rows: SubscriptionRow[]): Promise<void> {
    const kind = owner.device_id === null ? 'customer' : 'device';
    return this.projection.subscriptions(kind, owner.device_id ?? owner.customer_id, rows.map(toSpan));
  }

  async get(subscriber: Subscriber): Promise<SubscriptionsView> {
    return inTransaction(this.pool, async (client) => {
      const owner = await findSubscriber(client, subscriber, '');
      return view(owner, await listRows(client, owner), this.clock.nowMs());
    }, { readOnly: true });
  }
}

function subscriberKey(subscriber: Subscriber): string {
  return `${subscriber.kind}:${subscriber.id}`;
}

function findSubscriber(client: pg.PoolClient, subscriber: Subscriber, lock: '' | 'FOR UPDATE'): Promise<SubscriberRow> {
  const sql = subscriber.kind === 'customer'
    ? `SELECT id AS customer_id, NULL AS device_id, currency FROM customers WHERE id = $1 ${lock}`
    : `SELECT d.customer_id, d.id AS device_id, c.currency FROM devices d JOIN customers c ON c.id = d.customer_id WHERE d.id = $1 ${lock === '' ? '' : `${lock} OF d`}`;
  return client.query<SubscriberRow>(sql, [subscriber.id]).then(({ rows }) => {
    if (rows[0] === undefined) throw new AppError('NOT_FOUND', `${subscriber.kind} ${subscriber.id} does not exist`, 'id');
    return rows[0];
  });
}

/** The subscriber's row is locked, so two changes of its subscription are made one after the other. */
function lockSubscriber(client: pg.PoolClient, subscriber: Subscriber): Promise<SubscriberRow> {
  return findSubscriber(client, subscriber, 'FOR UPDATE');
}

async function requirePlan(client: pg.PoolClient, planId: string, currency: string): Promise<void> {
  const { rows } = await client.query<{ currency: string }>('SELECT currency FROM plans WHERE id = $1', [planId]);
  if (rows[0] === undefined) throw invalid('plan_id', `plan ${planId} does not exist`);
  if (rows[0].currency !== currency) throw invalid('plan_id', `plan ${planId} is in ${rows[0].currency}, the customer in ${currency}`);
}

/** Rows of this subscriber: the customer's own (device_id IS NULL) or the device's. */
function ofSubscriber(owner: SubscriberRow): { where: string; key: string } {
  return owner.device_id === null ? { where: 'customer_id = $1 AND device_id IS NULL', key: owner.customer_id } : { where: 'device_id = $1', key: owner.device_id };
}

async function subscribe(client: pg.PoolClient, owner: SubscriberRow, planId: string, from: Date): Promise<void> {
  const { where, key } = ofSubscriber(owner);
  await client.query(`DELETE FROM subscriptions WHERE ${where} AND valid_from >= $2`, [key, from]);
  const { rows } = await client.query<SubscriptionRow>(
    `SELECT * FROM subscriptions WHERE ${where} AND valid_from < $2 AND (valid_until IS NULL OR valid_until >= $2)
     ORDER BY valid_from DESC LIMIT 1`, [key, from]);
  const before = rows[0];
  // The same plan again continues the row before instead of starting one: repeating a PUT changes nothing.
  if (before?.plan_id === planId) {
    await client.query('UPDATE subscriptions SET valid_until = NULL WHERE id = $1', [before.id]);
    return;
  }
  if (before !== undefined) await client.query('UPDATE subscriptions SET valid_until = $2 WHERE id = $1', [before.id, from]);
  await client.query('INSERT INTO subscriptions (customer_id, device_id, plan_id, valid_from) VALUES ($1, $2, $3, $4)',
    [owner.customer_id, owner.device_id, planId, from]);
}

async function listRows(client: pg.PoolClient, owner: SubscriberRow): Promise<SubscriptionRow[]> {
  const { where, key } = ofSubscriber(owner);
  const { rows } = await client.query<SubscriptionRow>(`SELECT * FROM subscriptions WHERE ${where} ORDER BY valid_from DESC LIMIT $2`, [key, SUBSCRIPTIONS_LISTED_MAX]);
  return rows.reverse();
}

function view(owner: SubscriberRow, rows: SubscriptionRow[], nowMs: number): SubscriptionsView {
  const spans = rows.map(toSpan);
  const current = subscriptionAt(spans, nowMs);
  return { customer_id: owner.customer_id, device_id: owner.device_id, current: current === undefined ? null : spanView(current), items: spans.map(spanView) };
}

function toSpan(row: SubscriptionRow): SubscriptionSpan {
  return { planId: row.plan_id, fromMs: row.valid_from.getTime(), untilMs: row.valid_until?.getTime() ?? null };
}

function spanView(span: SubscriptionSpan): SubscriptionView {
  return { plan_id: span.planId, from: formatInstant(span.fromMs), until: span.untilMs === null ? null : formatInstant(span.untilMs) };
}

// Grants the allowances of plans each period, with no operator action: for every subscription
// in force, the allowances its plan version names, for the period that contains now, with what
// the grant that just ended left unused rolled over (capped by the plan). Grant ids name the
// plan, allowance, holder and period, and a grant is written only where none has that id, so a
// run can be repeated, or run by several service processes at once, without granting twice.
// A grant is written to PostgreSQL and projected into Redis in one transaction, so a failed
// projection leaves nothing behind and the next run writes it again.
import type pg from 'pg';
import type { Directory } from '../balance/directory.js';
import type { AllowanceProjection, Projection } from '../balance/projection.js';
import type { Clock } from '../clock.js';
import { inTransaction } from '../db/database.js';
import { markForProjection, projectMarked } from '../provisioning/pending-projections.js';
import { Periodic } from '../infra/periodic.js';
import { allowanceGrantsAt, rolloverSourceIds, type AllowanceGrant } from './allowance-grants.js';
import type { AllowanceDocument } from './catalog-document.js';

export interface GrantRunReport {
  subscriptions: number;
  granted: number;
}

interface SubscriptionInForce {
  id: string;
  customer_id: string;
  device_id: string | null;
  plan_id: string;
  time_zone: string;
  allowances: AllowanceDocument[];
}

/** Subscriptions read per query, and a customer's devices granted per transaction. */
const SUBSCRIPTIONS_PER_BATCH = 200;
const DEVICES_PER_BATCH = 500;

export class AllowanceGranter {
  private readonly periodic: Periodic;

  constructor(
    private readonly pool: pg.Pool,
    private readonly directory: Directory,
    private readonly projection: Projection,
    private readonly clock: Clock,
    intervalMs: number,
    onError: (error: unknown) => void = () => {},
  ) {
    this.periodic = new Periodic(() => this.grantDue(), intervalMs, onError);
  }

  /** One pass over every subscription in force now. */
  async grantDue(): Promise<GrantRunReport> {
    const nowMs = this.clock.nowMs();
    const report: GrantRunReport = { subscriptions: 0, granted: 0 };
    for (let after = '0'; ;) {
      const batch = await this.subscriptionsInForce(nowMs, after);
      for (const subscription of batch) {
        report.subscriptions++;
        report.granted += await this.grantSubscription(subscription, nowMs);
      }
      if (batch.length < SUBSCRIPTIONS_PER_BATCH) return report;
      after = batch[batch.length - 1]!.id;
    }
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** With the allowances of the plan version in force now; a plan without a version yet has none. */
  private async subscriptionsInForce(nowMs: number, afterId: string): Promise<SubscriptionInForce[]> {
    const { rows } = await this.pool.query<SubscriptionInForce>(
      `SELECT s.id, s.customer_id, s.device_id, s.plan_id, c.time_zone, v.allowances
       FROM subscriptions s
       JOIN customers c ON c.id = s.customer_id
       JOIN LATERAL (SELECT allowances FROM plan_versions WHERE plan_id = s.plan_id AND effective_from <= $1
                     ORDER BY effective_from DESC LIMIT 1) v ON true
       WHERE s.valid_from <= $1 AND (s.valid_until IS NULL OR s.valid_until > $1) AND s.id > $2
       ORDER BY s.id LIMIT $3`,
      [new Date(nowMs), afterId, SUBSCRIPTIONS_PER_BATCH]);
    return rows;
  }

  private async grantSubscription(subscription: SubscriptionInForce, nowMs: number): Promise<number> {
    const grant = async (deviceIds: string[], allowances: AllowanceDocument[]) =>
      allowances.length === 0 ? 0 : this.writeGrants(await this.grantsFor(subscription, deviceIds, allowances, nowMs));
    // A device's own subscription grants to it, and the pooled allowances to its customer's pool.
    if (subscription.device_id !== null) return grant([subscription.device_id], subscription.allowances);
    let granted = await grant([], subscription.allowances.filter((allowance) => allowance.scope === 'customer'));
    const perDevice = subscription.allowances.filter((allowance) => allowance.scope === 'device');
    if (perDevice.length === 0) return granted;
    for (let after = ''; ;) {
      const deviceIds = await this.coveredDevices(subscription, nowMs, after);
      granted += await grant(deviceIds, perDevice);
      if (deviceIds.length < DEVICES_PER_BATCH) return granted;
      after = deviceIds[deviceIds.length - 1]!;
    }
  }

  /** The customer's devices this subscription covers: those without a subscription of their own in force. */
  private async coveredDevices(subscription: SubscriptionInForce, nowMs: number, afterId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT d.id FROM devices d
       WHERE d.customer_id = $1 AND d.id > $2 AND NOT EXISTS (
         SELECT 1 FROM subscriptions s WHERE s.device_id = d.id AND s.valid_from <= $3 AND (s.valid_until IS NULL OR s.valid_until > $3))
       ORDER BY d.id LIMIT $4`,
      [subscription.customer_id, afterId, new Date(nowMs), DEVICES_PER_BATCH]);
    return rows.map((row) => row.id);
  }

  private async grantsFor(subscription: SubscriptionInForce, deviceIds: string[], allowances: AllowanceDocument[], nowMs: number): Promise<AllowanceGrant[]> {
    const request = { planId: subscription.plan_id, customerId: subscription.customer_id, deviceIds, allowances, timeZone: subscription.time_zone, atMs: nowMs };
    const unusedUnitsByGrantId = await this.directory.allowancesLeft(subscription.customer_id, rolloverSourceIds(request));
    return allowanceGrantsAt({ ...request, unusedUnitsByGrantId });
  }

  /**
   * Writes the grants no allowance has the id of yet, each marked for projection in the same
   * transaction, then projects them; one left marked (Redis down) is projected by the repair.
   * Returns how many were written.
   */
  private async writeGrants(grants: AllowanceGrant[]): Promise<number> {
    if (grants.length === 0) return 0;
    const marked = await inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO allowances (id, customer_id, device_id, rating_group, units_total, priority, valid_from, valid_until)
         SELECT g.id, g.customer_id, g.device_id, g.rating_group, g.units_total, g.priority, g.valid_from, g.valid_until
         FROM jsonb_to_recordset($1::jsonb) AS g(id text, customer_id text, device_id text, rating_group integer, units_total bigint,
                                                  priority integer, valid_from timestamptz, valid_until timestamptz)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [JSON.stringify(grants.map(grantRow))]);
      const written = new Set(rows.map((row) => row.id));
      const marks: { grant: AllowanceGrant; mark: string }[] = [];
      for (const grant of grants) if (written.has(grant.id)) marks.push({ grant, mark: await markForProjection(client, 'allowance', grant.id) });
      return marks;
    });
    for (const { grant, mark } of marked) await projectMarked(this.pool, 'allowance', grant.id, mark, () => this.projection.allowance(projectionOf(grant)));
    return marked.length;
  }
}

function grantRow(grant: AllowanceGrant) {
  return {
    id: grant.id, customer_id: grant.customerId, device_id: grant.deviceId, rating_group: grant.ratingGroup, units_total: grant.unitsTotal.toString(),
    priority: grant.priority, valid_from: new Date(grant.validFromMs).toISOString(), valid_until: new Date(grant.validUntilMs).toISOString(),
  };
}

function projectionOf(grant: AllowanceGrant): AllowanceProjection {
  return {
    id: grant.id, customerId: grant.customerId, deviceId: grant.deviceId, ratingGroup: grant.ratingGroup, unitsTotal: grant.unitsTotal,
    priority: grant.priority, validFromMs: grant.validFromMs, validUntilMs: grant.validUntilMs,
  };
}

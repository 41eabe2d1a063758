// What the hot path needs from provisioning, projected into Redis so that charging never
// waits for PostgreSQL: who owns a device, a customer's profile, and the catalog.
import type { Cluster, Redis } from 'ioredis';
import type { TariffDefinition } from '../rating/tariff.js';
import type { TariffDocument } from '../rating/tariff-format.js';
import type { KeySpace } from './keys.js';

export interface CustomerProfile {
  id: string;
  currency: string;
  timeZone: string;
  tariffId: string | null;
}

export type RatingGroupUnit = 'bytes' | 'seconds' | 'events';

/** A plan as the hot path reads it: every version still in force or scheduled, oldest first. */
export interface PlanProjection {
  id: string;
  currency: string;
  versions: PlanVersionProjection[];
}

export interface PlanVersionProjection {
  effectiveFromMs: number;
  tariffId: string;
  tariffVersion: number;
  /** The tariff document as the version snapshotted it (src/rating/tariff-format.ts). */
  tariffDocument: TariffDocument;
}

/** A subscription to a plan from an instant, until another (null: open-ended). */
export interface SubscriptionSpanProjection {
  planId: string;
  fromMs: number;
  untilMs: number | null;
}

export interface RatingGroup {
  id: number;
  name: string;
  unit: RatingGroupUnit;
}

export class Directory {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: KeySpace,
  ) {}

  async ownerOf(deviceId: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.deviceDirectory(deviceId))) ?? undefined;
  }

  async profile(customerId: string): Promise<CustomerProfile | undefined> {
    const json = await this.redis.get(this.keys.customerDirectory(customerId));
    return json === null ? undefined : (JSON.parse(json) as CustomerProfile);
  }

  async tariff(tariffId: string): Promise<TariffDefinition | undefined> {
    const json = await this.redis.hget(this.keys.tariffs(), tariffId);
    return json === null ? undefined : (JSON.parse(json) as TariffDefinition);
  }

  async plan(planId: string): Promise<PlanProjection | undefined> {
    const json = await this.redis.hget(this.keys.plans(), planId);
    return json === null ? undefined : (JSON.parse(json) as PlanProjection);
  }

  /** Empty when the subscriber has none. */
  async subscriptions(subscriber: 'customer' | 'device', id: string): Promise<SubscriptionSpanProjection[]> {
    const json = await this.redis.get(this.keys.subscriptionDirectory(subscriber, id));
    return json === null ? [] : (JSON.parse(json) as SubscriptionSpanProjection[]);
  }

  /** What each bucket still has free (total − used − held), for those that exist. */
  async allowancesLeft(customerId: string, allowanceIds: readonly string[]): Promise<Map<string, bigint>> {
    const pipeline = this.redis.pipeline();
    for (const id of allowanceIds) pipeline.hmget(this.keys.allowance(customerId, id), 'total', 'used', 'held');
    const replies = (await pipeline.exec()) ?? [];
    const left = new Map<string, bigint>();
    replies.forEach(([error, fields], index) => {
      if (error) throw error;
      const [total, used, held] = fields as (string | null)[];
      if (total !== null && total !== undefined) left.set(allowanceIds[index]!, BigInt(total) - BigInt(used ?? '0') - BigInt(held ?? '0'));
    });
    return left;
  }

  async ratingGroups(): Promise<RatingGroup[]> {
    const all = await this.redis.hgetall(this.keys.ratingGroups());
    return Object.values(all).map((json) => JSON.parse(json) as RatingGroup);
  }
}

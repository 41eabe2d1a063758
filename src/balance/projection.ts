// Writes what charging needs of provisioning into Redis, and tells every service instance to
// drop its cached copy. Each write is idempotent and never touches live state (balances,
// holds, usage): those fields are only created when missing, so re-projecting is always safe.
import type { Cluster, Redis } from 'ioredis';
import type { TariffDefinition } from '../rating/tariff.js';
import type { CustomerProfile, PlanProjection, RatingGroup, SubscriptionSpanProjection } from './directory.js';
import type { KeySpace } from './keys.js';

export interface DeviceProjection {
  id: string;
  customerId: string;
  status: 'active' | 'suspended';
  dailyCapMicros: bigint | null;
  monthlyCapMicros: bigint | null;
}

export interface AllowanceProjection {
  id: string;
  customerId: string;
  deviceId: string | null;
  ratingGroup: number;
  unitsTotal: bigint;
  priority: number;
  validFromMs: number;
  validUntilMs: number;
}

/**
 * Buckets are used by priority (higher first), then by the soonest end of validity. The score
 * packs both below 2^53: (999 − priority) × 10^10 + the end of validity in minutes.
 */
export function allowanceScore(priority: number, validUntilMs: number): number {
  return (999 - priority) * 1e10 + Math.floor(validUntilMs / 60_000);
}

export class Projection {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: KeySpace,
    /** This process's own caches hear of a change at once; other processes through pub/sub. */
    private readonly onChange: (message: string) => Promise<void> = async () => {},
  ) {}

  async ratingGroup(group: RatingGroup): Promise<void> {
    await this.redis.hset(this.keys.ratingGroups(), String(group.id), JSON.stringify(group));
    await this.announce('rg');
  }

  async tariff(definition: TariffDefinition): Promise<void> {
    await this.redis.hset(this.keys.tariffs(), definition.id, JSON.stringify(definition));
    await this.announce(`t:${definition.id}`);
  }

  async plan(plan: PlanProjection): Promise<void> {
    await this.redis.hset(this.keys.plans(), plan.id, JSON.stringify(plan));
    await this.announce(`p:${plan.id}`);
  }

  /** Replaces the subscriber's spans; an empty list removes the key. */
  async subscriptions(subscriber: 'customer' | 'device', id: string, spans: readonly SubscriptionSpanProjection[]): Promise<void> {
    const key = this.keys.subscriptionDirectory(subscriber, id);
    if (spans.length === 0) await this.redis.del(key);
    else await this.redis.set(key, JSON.stringify(spans));
    await this.announce(`s${subscriber === 'customer' ? 'c' : 'd'}:${id}`);
  }

  async customer(profile: CustomerProfile, creditLimitMicros: bigint): Promise<void> {
    const wallet = this.keys.wallet(profile.id);
    await this.redis
      .pipeline()
      .hsetnx(wallet, 'balance', '0')
      .hsetnx(wallet, 'held', '0')
      .hset(wallet, 'credit', creditLimitMicros.toString(), 'currency', profile.currency)
      .exec()
      .then(throwPipelineError);
    await this.redis.set(this.keys.customerDirectory(profile.id), JSON.stringify(profile));
    await this.announce(`c:${profile.id}`);
  }

  async device(device: DeviceProjection): Promise<void> {
    const key = this.keys.device(device.customerId, device.id);
    const pipeline = this.redis.pipeline().hset(key, 'customer', device.customerId, 'status', device.status);
    for (const [field, cap] of [['capDay', device.dailyCapMicros], ['capMonth', device.monthlyCapMicros]] as const) {
      if (cap === null) pipeline.hdel(key, field);
      else pipeline.hset(key, field, cap.toString());
    }
    await pipeline.exec().then(throwPipelineError);
    await this.redis.set(this.keys.deviceDirectory(device.id), device.customerId);
    await this.announce(`d:${device.id}`);
  }

  async allowance(allowance: AllowanceProjection): Promise<void> {
    const key = this.keys.allowance(allowance.customerId, allowance.id);
    await this.redis
      .pipeline()
      .hset(key, 'rg', String(allowance.ratingGroup), 'total', allowance.unitsTotal.toString(),
        'from', String(allowance.validFromMs), 'until', String(allowance.validUntilMs),
        'device', allowance.deviceId ?? '', 'priority', String(allowance.priority))
      .hsetnx(key, 'used', '0')
      .hsetnx(key, 'held', '0')
      .zadd(this.keys.allowanceIndex(allowance.customerId, allowance.ratingGroup, allowance.deviceId), allowanceScore(allowance.priority, allowance.validUntilMs), allowance.id)
      .sadd(this.keys.allowanceList(allowance.customerId, allowance.deviceId), allowance.id)
      .exec()
      .then(throwPipelineError);
  }

  /** Claims the partition count for this keyspace, or confirms it; it can never change. */
  async claimPartitionCount(partitionCount: number): Promise<number> {
    await this.redis.hsetnx(this.keys.meta(), 'partitions', String(partitionCount));
    return Number(await this.redis.hget(this.keys.meta(), 'partitions'));
  }

  async isProjected(): Promise<boolean> {
    return (await this.redis.hget(this.keys.meta(), 'projected')) === '1';
  }

  async markProjected(): Promise<void> {
    await this.redis.hset(this.keys.meta(), 'projected', '1');
  }

  private async announce(message: string): Promise<void> {
    await this.onChange(message);
    await this.redis.publish(this.keys.invalidationChannel(), message);
  }
}

function throwPipelineError(results: [Error | null, unknown][] | null): void {
  for (const [error] of results ?? []) if (error) throw error;
}

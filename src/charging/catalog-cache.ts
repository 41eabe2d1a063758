// In-process copies of what charging reads on every request: who owns a device, the owner's
// profile, compiled tariffs and the rating groups. A request resolves its device without a
// Redis round trip once the device has been seen. Copies are dropped on an invalidation
// message and all of them after the subscription reconnects, since messages sent while it was
// down are lost. A stale owner can still never charge the wrong wallet: the scripts check that
// the device belongs to the customer they were given, and answer MOVED otherwise.
import { LRUCache } from 'lru-cache';
import type { CustomerProfile, Directory, PlanProjection, PlanVersionProjection, RatingGroup, SubscriptionSpanProjection } from '../balance/directory.js';
import { effectiveSubscription, versionInForce } from '../catalog/subscriptions.js';
import { compileTariffDocument, type CompiledTariffDocument } from '../rating/compiled-tariff.js';
import { compileTariff } from '../rating/tariff.js';
import { PriceList } from './price-list.js';

export interface ResolvedDevice {
  customerId: string;
  profile: CustomerProfile;
  /** The customer's own tariff, for devices no plan prices; undefined when it has none. */
  tariffPrices: PriceList | undefined;
}

/** The plan version that prices a device's usage at an instant, and its compiled tariff. */
export interface EffectivePlan {
  planId: string;
  /** Whose subscription it is: the device's own wins over its customer's. */
  scope: 'device' | 'customer';
  version: PlanVersionProjection;
  tariff: CompiledTariffDocument;
  /** Every version of the plan, compiled. */
  prices: PriceList;
}

interface CachedPlan {
  plan: PlanProjection;
  /** Compiled on first use; undefined while the plan has no version. */
  prices: PriceList | undefined;
}

export class CatalogCache {
  private readonly owners: LRUCache<string, string>;
  private readonly profiles: LRUCache<string, CustomerProfile>;
  private readonly subscriptions: LRUCache<string, SubscriptionSpanProjection[]>;
  private readonly tariffs = new Map<string, PriceList>();
  /** Plans are few and shared by many subscribers: all of them are kept. */
  private readonly plans = new Map<string, CachedPlan>();
  private ratingGroups = new Map<number, RatingGroup>();

  constructor(
    private readonly directory: Directory,
    entriesMax: number,
  ) {
    this.owners = new LRUCache({ max: Math.max(1, entriesMax) });
    this.profiles = new LRUCache({ max: Math.max(1, entriesMax) });
    this.subscriptions = new LRUCache({ max: Math.max(1, entriesMax) });
  }

  async loadRatingGroups(): Promise<void> {
    const groups = await this.directory.ratingGroups();
    this.ratingGroups = new Map(groups.map((group) => [group.id, group]));
  }

  isRatingGroup(id: number): boolean {
    return this.ratingGroups.has(id);
  }

  ratingGroup(id: number): RatingGroup | undefined {
    return this.ratingGroups.get(id);
  }

  async resolveDevice(deviceId: string, fresh = false): Promise<ResolvedDevice | undefined> {
    let customerId = fresh ? undefined : this.owners.get(deviceId);
    if (customerId === undefined) {
      customerId = await this.directory.ownerOf(deviceId);
      if (customerId === undefined) return undefined;
      this.owners.set(deviceId, customerId);
    }
    return this.resolveCustomer(customerId, fresh);
  }

  async resolveCustomer(customerId: string, fresh = false): Promise<ResolvedDevice | undefined> {
    let profile = fresh ? undefined : this.profiles.get(customerId);
    if (profile === undefined) {
      profile = await this.directory.profile(customerId);
      if (profile === undefined) return undefined;
      this.profiles.set(customerId, profile);
    }
    const tariff = profile.tariffId === null ? undefined : await this.tariff(profile.tariffId, fresh);
    return { customerId, profile, tariffPrices: tariff };
  }

  private async tariff(tariffId: string, fresh: boolean): Promise<PriceList | undefined> {
    const cached = fresh ? undefined : this.tariffs.get(tariffId);
    if (cached !== undefined) return cached;
    const definition = await this.directory.tariff(tariffId);
    if (definition === undefined) return undefined;
    const prices = PriceList.single(tariffId, compileTariff(definition));
    this.tariffs.set(tariffId, prices);
    return prices;
  }

  /**
   * What prices the device's usage at `atMs`: the plan it or its customer subscribes to, else
   * the customer's own tariff; undefined when neither prices anything (every rating group is
   * then unrated).
   */
  async pricesAt(deviceId: string, device: ResolvedDevice, atMs: number): Promise<PriceList | undefined> {
    return (await this.effectivePlanAt(deviceId, device.customerId, atMs))?.prices ?? device.tariffPrices;
  }

  /**
   * The plan version in force for the device at `atMs`, through the device's own subscription
   * or else its customer's; undefined when neither subscribes to a plan then.
   */
  async effectivePlanAt(deviceId: string, customerId: string, atMs: number): Promise<EffectivePlan | undefined> {
    const spans = { device: await this.spansOf('device', deviceId), customer: await this.spansOf('customer', customerId) };
    const found = effectiveSubscription(spans, atMs);
    if (found === undefined) return undefined;
    const cached = await this.plan(found.subscription.planId);
    const version = cached === undefined ? undefined : versionInForce(cached.plan.versions, atMs, (candidate) => candidate.effectiveFromMs);
    if (cached?.prices === undefined || version === undefined) return undefined;
    return { planId: cached.plan.id, scope: found.scope, version, tariff: cached.prices.at(atMs), prices: cached.prices };
  }

  private async spansOf(kind: 'customer' | 'device', id: string): Promise<SubscriptionSpanProjection[]> {
    const key = `${kind === 'customer' ? 'sc' : 'sd'}:${id}`;
    let spans = this.subscriptions.get(key);
    if (spans === undefined) {
      spans = await this.directory.subscriptions(kind, id);
      this.subscriptions.set(key, spans);
    }
    return spans;
  }

  private async plan(planId: string): Promise<CachedPlan | undefined> {
    let cached = this.plans.get(planId);
    if (cached === undefined) {
      const plan = await this.directory.plan(planId);
      if (plan === undefined) return undefined;
      const versions = plan.versions.map((version) => ({ effectiveFromMs: version.effectiveFromMs, tariffId: version.tariffId, tariff: compileTariffDocument(version.tariffDocument) }));
      cached = { plan, prices: versions.length === 0 ? undefined : new PriceList(versions) };
      this.plans.set(planId, cached);
    }
    return cached;
  }

  /**
   * Messages: `d:<device>`, `c:<customer>`, `t:<tariff>`, `p:<plan>`, `sc:<customer>` and
   * `sd:<device>` (subscriptions), `rg`, or `*` for everything.
   */
  async invalidate(message: string): Promise<void> {
    const colon = message.indexOf(':');
    const kind = message.slice(0, colon + 1);
    const id = message.slice(colon + 1);
    if (kind === 'd:') this.owners.delete(id);
    else if (kind === 'c:') this.profiles.delete(id);
    else if (kind === 't:') this.tariffs.delete(id);
    else if (kind === 'p:') this.plans.delete(id);
    else if (kind === 'sc:' || kind === 'sd:') this.subscriptions.delete(message);
    else if (message === 'rg') await this.loadRatingGroups();
    else {
      this.owners.clear();
      this.profiles.clear();
      this.subscriptions.clear();
      this.tariffs.clear();
      this.plans.clear();
      await this.loadRatingGroups();
    }
  }
}

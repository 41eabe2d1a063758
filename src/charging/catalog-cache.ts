// In-process copies of what charging reads on every request: who owns a device, the owner's
// profile, compiled tariffs and the rating groups. A request resolves its device without a
// Redis round trip once the device has been seen. Copies are dropped on an invalidation
// message and all of them after the subscription reconnects, since messages sent while it was
// down are lost. A stale owner can still never charge the wrong wallet: the scripts check that
// the device belongs to the customer they were given, and answer MOVED otherwise.
import { LRUCache } from 'lru-cache';
import type { CustomerProfile, Directory, RatingGroup } from '../balance/directory.js';
import { compileTariff, type CompiledTariff } from '../rating/tariff.js';

export interface ResolvedDevice {
  customerId: string;
  profile: CustomerProfile;
  /** Undefined when the customer has no tariff: every rating group is then unrated. */
  tariff: CompiledTariff | undefined;
}

export class CatalogCache {
  private readonly owners: LRUCache<string, string>;
  private readonly profiles: LRUCache<string, CustomerProfile>;
  private readonly tariffs = new Map<string, CompiledTariff>();
  private ratingGroups = new Map<number, RatingGroup>();

  constructor(
    private readonly directory: Directory,
    entriesMax: number,
  ) {
    this.owners = new LRUCache({ max: Math.max(1, entriesMax) });
    this.profiles = new LRUCache({ max: Math.max(1, entriesMax) });
  }

  async loadRatingGroups(): Promise<void> {
    const groups = await this.directory.ratingGroups();
    this.ratingGroups = new Map(groups.map((group) => [group.id, group]));
  }

  isRatingGroup(id: number): boolean {
    return this.ratingGroups.has(id);
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
    return { customerId, profile, tariff };
  }

  private async tariff(tariffId: string, fresh: boolean): Promise<CompiledTariff | undefined> {
    const cached = fresh ? undefined : this.tariffs.get(tariffId);
    if (cached !== undefined) return cached;
    const definition = await this.directory.tariff(tariffId);
    if (definition === undefined) return undefined;
    const compiled = compileTariff(definition);
    this.tariffs.set(tariffId, compiled);
    return compiled;
  }

  /** Messages: `d:<device>`, `c:<customer>`, `t:<tariff>`, `rg`, or `*` for everything. */
  async invalidate(message: string): Promise<void> {
    const kind = message.slice(0, 2);
    const id = message.slice(2);
    if (kind === 'd:') this.owners.delete(id);
    else if (kind === 'c:') this.profiles.delete(id);
    else if (kind === 't:') this.tariffs.delete(id);
    else if (message === 'rg') await this.loadRatingGroups();
    else {
      this.owners.clear();
      this.profiles.clear();
      this.tariffs.clear();
      await this.loadRatingGroups();
    }
  }
}

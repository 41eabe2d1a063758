// The key layout. Every key of one customer shares the hash tag of the customer's partition,
// `{p<n>}`, so each script touches one Redis Cluster slot; the partition's event stream has
// the same tag, so a balance change and its event are written in the same call.
//
// <prefix>{p<n>}:w:<customer>          wallet hash: balance, held, credit (micros), currency
// <prefix>{p<n>}:d:<device>            device hash: customer, status, capDay, capMonth
// <prefix>{p<n>}:cap:<device>:d|m:<period>  money counted against a device's cap
// <prefix>{p<n>}:a:<allowance>         allowance bucket hash: rg, total, used, held, from, until, device, priority
// <prefix>{p<n>}:ai:<customer>:<rg>    pooled buckets a rating group draws on, in order of use (zset)
// <prefix>{p<n>}:aid:<device>:<rg>     a device's own buckets, scored alike (zset)
// <prefix>{p<n>}:ac:<customer>, acd:<device>  the pool's buckets, a device's own (sets)
// <prefix>{p<n>}:tu:c:<customer>|d:<device>:<rg>:<YYYYMM>  units paid in a month: tier position
// <prefix>{p<n>}:s:<device> <session>  session hash (see lua/includes/session.lua)
// <prefix>{p<n>}:sa:<device> <session> stored answers of a session, its floor and end (answers.lua)
// <prefix>{p<n>}:ea:<customer> <event>, ta:<customer> <top-up>  stored answers of one-shot
//                                      charges and top-ups
// <prefix>{p<n>}:exp                   reservations by the time they expire (zset of
//                                      "<rating group>:<device> <session>")
//
// Idempotency keys are scoped by their owner, never by the partition alone: an event id or a
// top-up id by its customer, a session id by its device (the owner every session call names),
// so no customer's or device's ids can collide with another's, even in the same partition.
// The owner and the id are joined by a space, which no id may contain, so the pair is never
// ambiguous. The scripts build these names themselves (lua/includes/answers.lua scopedKey).
// <prefix>{p<n>}:events                the partition's event stream
// <prefix>dir:d:<device> → customer, <prefix>dir:c:<customer> → profile JSON: the directory
// <prefix>dir:sc:<customer>, dir:sd:<device> → subscription spans JSON
// <prefix>catalog:tariffs, catalog:rating-groups, catalog:plans: the catalog the hot path rates
//                                      with (hashes)
// <prefix>meta                         partition count, fixed at first start

export class KeySpace {
  constructor(
    readonly prefix: string,
    readonly partitionCount: number,
  ) {}

  /** FNV-1a over the customer id: stable across processes and releases. */
  partitionOf(customerId: string): number {
    let hash = 0x811c9dc5;
    for (let index = 0; index < customerId.length; index++) {
      hash ^= customerId.charCodeAt(index);
      hash = Math.imul(hash, 0x01000193);
    }
    return (hash >>> 0) % this.partitionCount;
  }

  partitionPrefix(partition: number): string {
    return `${this.prefix}{p${partition}}:`;
  }

  customerPrefix(customerId: string): string {
    return this.partitionPrefix(this.partitionOf(customerId));
  }

  stream(partition: number): string {
    return `${this.partitionPrefix(partition)}events`;
  }

  wallet(customerId: string): string {
    return `${this.customerPrefix(customerId)}w:${customerId}`;
  }

  device(customerId: string, deviceId: string): string {
    return `${this.customerPrefix(customerId)}d:${deviceId}`;
  }

  allowance(customerId: string, allowanceId: string): string {
    return `${this.customerPrefix(customerId)}a:${allowanceId}`;
  }

  /**
   * A device's own buckets are indexed and listed apart from the pool's (deviceId non-null), so
   * a fleet's thousands of per-device bundles never crowd the pool or each other.
   */
  allowanceIndex(customerId: string, ratingGroup: number, deviceId: string | null): string {
    const prefix = this.customerPrefix(customerId);
    return deviceId === null ? `${prefix}ai:${customerId}:${ratingGroup}` : `${prefix}aid:${deviceId}:${ratingGroup}`;
  }

  /**
   * Units paid with money in a month for a rating group, which place a tariff's tiers. `counter`
   * is "<c:customer|d:device>:<rating group>:<YYYYMM>", as events name it (`tu`).
   */
  tierCounter(customerId: string, counter: string): string {
    return `${this.customerPrefix(customerId)}tu:${counter}`;
  }

  allowanceList(customerId: string, deviceId: string | null): string {
    const prefix = this.customerPrefix(customerId);
    return deviceId === null ? `${prefix}ac:${customerId}` : `${prefix}acd:${deviceId}`;
  }

  session(customerId: string, deviceId: string, sessionId: string): string {
    return `${this.customerPrefix(customerId)}s:${deviceId} ${sessionId}`;
  }

  sessionAnswers(customerId: string, deviceId: string, sessionId: string): string {
    return `${this.customerPrefix(customerId)}sa:${deviceId} ${sessionId}`;
  }

  chargeAnswer(customerId: string, eventId: string): string {
    return `${this.customerPrefix(customerId)}ea:${customerId} ${eventId}`;
  }

  topUpAnswer(customerId: string, topUpId: string): string {
    return `${this.customerPrefix(customerId)}ta:${customerId} ${topUpId}`;
  }

  expiryIndex(partition: number): string {
    return `${this.partitionPrefix(partition)}exp`;
  }

  deviceDirectory(deviceId: string): string {
    return `${this.prefix}dir:d:${deviceId}`;
  }

  customerDirectory(customerId: string): string {
    return `${this.prefix}dir:c:${customerId}`;
  }

  /** A customer's own subscriptions, or a device's (JSON spans), current and scheduled. */
  subscriptionDirectory(subscriber: 'customer' | 'device', id: string): string {
    return `${this.prefix}dir:s${subscriber === 'customer' ? 'c' : 'd'}:${id}`;
  }

  tariffs(): string {
    return `${this.prefix}catalog:tariffs`;
  }

  /** Plans with their versions and each version's tariff snapshot (JSON per plan). */
  plans(): string {
    return `${this.prefix}catalog:plans`;
  }

  ratingGroups(): string {
    return `${this.prefix}catalog:rating-groups`;
  }

  meta(): string {
    return `${this.prefix}meta`;
  }

  invalidationChannel(): string {
    return `${this.prefix}invalidate`;
  }
}

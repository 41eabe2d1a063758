// Which plan, and which version of it, prices a device at an instant. Pure, for the online path
// (device → subscription → plan version → tariff) and for billing: a device's own subscription
// wins over its customer's, and a plan version is in force from its effective_from until the
// next version's.
import type { SubscriptionSpanProjection } from '../balance/directory.js';
import { instantMs } from './catalog-document.js';

/** The same span the online path reads from Redis. */
export type SubscriptionSpan = SubscriptionSpanProjection;

export interface EffectiveSubscription {
  scope: 'device' | 'customer';
  subscription: SubscriptionSpan;
}

/** The version in force at the instant, from versions in time order; undefined before the first. */
export function versionInForce<Version>(versions: readonly Version[], atMs: number, effectiveFromMs: (version: Version) => number): Version | undefined {
  let found: Version | undefined;
  for (const version of versions) {
    if (effectiveFromMs(version) > atMs) break;
    found = version;
  }
  return found;
}

/** versionInForce for a plan as the catalog format writes it. */
export function planVersionAt<Version extends { effective_from: string }>(plan: { versions: readonly Version[] }, atMs: number): Version | undefined {
  return versionInForce(plan.versions, atMs, (version) => instantMs(version.effective_from));
}

export function subscriptionAt(spans: readonly SubscriptionSpan[], atMs: number): SubscriptionSpan | undefined {
  return spans.find((span) => span.fromMs <= atMs && (span.untilMs === null || atMs < span.untilMs));
}

/** The device's own subscription when it has one in force, else its customer's. */
export function effectiveSubscription(
  spans: { device: readonly SubscriptionSpan[]; customer: readonly SubscriptionSpan[] }, atMs: number,
): EffectiveSubscription | undefined {
  const own = subscriptionAt(spans.device, atMs);
  if (own !== undefined) return { scope: 'device', subscription: own };
  const customer = subscriptionAt(spans.customer, atMs);
  return customer === undefined ? undefined : { scope: 'customer', subscription: customer };
}

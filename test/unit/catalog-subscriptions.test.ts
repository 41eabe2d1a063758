// Which plan version prices a device at an instant: the device's own subscription wins over its
// customer's, and a version is in force from its effective_from until the next one's.
import { describe, expect, it } from 'vitest';
import { effectiveSubscription, planVersionAt, type SubscriptionSpan } from '../../src/catalog/subscriptions.js';

const at = (text: string) => Date.parse(text);
const plan = {
  versions: [
    { effective_from: '2026-01-01T00:00:00Z', tariff: 'v1' },
    { effective_from: '2026-07-01T00:00:00Z', tariff: 'v2' },
    { effective_from: '2027-01-01T00:00:00Z', tariff: 'v3' },
  ],
};

describe('planVersionAt', () => {
  it.each([
    ['before the first version', '2025-12-31T23:59:59.999Z', undefined],
    ['at the first version\'s start', '2026-01-01T00:00:00Z', 'v1'],
    ['the last millisecond before a change', '2026-06-30T23:59:59.999Z', 'v1'],
    ['at the change: the new version', '2026-07-01T00:00:00Z', 'v2'],
    ['after the last version\'s start', '2030-01-01T00:00:00Z', 'v3'],
  ])('%s → %s', (_name, instant, tariff) => {
    expect(planVersionAt(plan, at(instant))?.tariff).toBe(tariff);
  });
});

describe('effectiveSubscription', () => {
  const customer: SubscriptionSpan[] = [
    { planId: 'fleet', fromMs: at('2026-01-01T00:00:00Z'), untilMs: at('2026-06-01T00:00:00Z') },
    { planId: 'lite', fromMs: at('2026-06-01T00:00:00Z'), untilMs: null },
  ];
  const device: SubscriptionSpan[] = [{ planId: 'camera', fromMs: at('2026-03-01T00:00:00Z'), untilMs: at('2026-04-01T00:00:00Z') }];

  it.each([
    ['before any subscription', '2025-12-31T00:00:00Z', undefined],
    ['the customer\'s plan', '2026-02-01T00:00:00Z', { scope: 'customer', planId: 'fleet' }],
    ['the device\'s own plan while it is in force', '2026-03-01T00:00:00Z', { scope: 'device', planId: 'camera' }],
    ['the customer\'s again once the device\'s ends', '2026-04-01T00:00:00Z', { scope: 'customer', planId: 'fleet' }],
    ['the customer\'s next plan from its start', '2026-06-01T00:00:00Z', { scope: 'customer', planId: 'lite' }],
  ])('%s', (_name, instant, expected) => {
    const found = effectiveSubscription({ device, customer }, at(instant));
    expect(found === undefined ? undefined : { scope: found.scope, planId: found.subscription.planId }).toEqual(expected);
  });
});

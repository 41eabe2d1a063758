// What prices a device's usage: the versions of its plan's tariff, or its customer's own tariff
// as a single version in force forever. Charging reads the version in force at an instant, and
// the versions a usage's span crosses, so that a session that runs over a price change is split
// at the change (see src/rating/split-usage.ts).
import { versionInForce } from '../catalog/subscriptions.js';
import type { CompiledTariffDocument } from '../rating/compiled-tariff.js';
import type { TariffVersion } from '../rating/split-usage.js';

export interface PriceVersion extends TariffVersion {
  tariffId: string;
}

export class PriceList {
  /** `versions` in effective order, each after the one before; at least one. */
  constructor(private readonly versions: readonly PriceVersion[]) {
    if (versions.length === 0) throw new Error('a price list needs a version');
  }

  static single(tariffId: string, tariff: CompiledTariffDocument): PriceList {
    return new PriceList([{ effectiveFromMs: Number.MIN_SAFE_INTEGER, tariff, tariffId }]);
  }

  /** The version in force at `atMs`; the first one before it took effect. */
  versionAt(atMs: number): PriceVersion {
    return versionInForce(this.versions, atMs, (version) => version.effectiveFromMs) ?? this.versions[0]!;
  }

  at(atMs: number): CompiledTariffDocument {
    return this.versionAt(atMs).tariff;
  }

  /** The versions over [fromMs, toMs], in effective order, the first in force at fromMs. */
  over(fromMs: number, toMs: number): TariffVersion[] {
    let first = 0;
    while (first + 1 < this.versions.length && this.versions[first + 1]!.effectiveFromMs <= fromMs) first++;
    return [this.versions[first]!, ...this.versions.slice(first + 1).filter((version) => version.effectiveFromMs <= toMs)];
  }
}

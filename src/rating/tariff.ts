// A customer's own tariff as provisioning stores it (one per-unit rate per rating group). Such a
// rate is the simplest case of the tariff format (tariff-document.ts): one interval, one flat
// price, no bands, zones, tiers or limits. It is compiled as exactly that, so plans and these
// tariffs are rated by the same engine.
import { compileTariffDocument, type CompiledTariffDocument } from './compiled-tariff.js';
import type { RateDocument, TariffDocument } from './tariff-format.js';
import type { FinalUnitActionName, Rounding } from './tariff-terms.js';

export type { FinalUnitActionName, Rounding, RoundingMode } from './tariff-terms.js';

export interface RateDefinition {
  ratingGroup: number;
  /** Price of `perUnits` units, a decimal string; may be far below one micro per unit. */
  price: string;
  perUnits: number;
  /** Usage is counted in whole increments of this many units. */
  incrementUnits: number;
  /** Charged once per session, with its first usage paid in money. */
  connectFee: string;
}

export interface TariffDefinition {
  id: string;
  name: string;
  currency: string;
  rounding: Rounding;
  finalUnitAction: FinalUnitActionName;
  rates: RateDefinition[];
}

export function rateDocumentOf(rate: RateDefinition): RateDocument {
  return {
    rating_group: rate.ratingGroup,
    connect_fee: rate.connectFee,
    tier_scope: 'customer',
    intervals: [{ from_units: 0, increment_units: rate.incrementUnits, per_units: rate.perUnits, price: rate.price }],
  };
}

/** The definition in the tariff format, for the engine's entry points. */
export function tariffDocumentOf(definition: TariffDefinition): TariffDocument {
  return {
    name: definition.name,
    currency: definition.currency,
    time_zone: 'UTC',
    rounding: { ...definition.rounding },
    final_unit_action: definition.finalUnitAction,
    rates: definition.rates.map(rateDocumentOf),
  };
}

export function compileTariff(definition: TariffDefinition): CompiledTariffDocument {
  return compileTariffDocument(tariffDocumentOf(definition));
}

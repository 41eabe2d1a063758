// Tariff definitions as the catalog stores them today (one per-unit rate per rating group), and
// their compiled, ready-to-rate form. Such a rate is the simplest case of the tariff format
// (tariff-document.ts): one interval, one flat price, no bands, zones, tiers or limits. It is
// compiled as exactly that, so both are rated by the same engine.
import { compileRateRule, compileTariffDocument, NO_NAMES, type CompiledRateRule, type CompiledTariffDocument } from './compiled-tariff.js';
import { Decimal } from './decimal.js';
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

export interface CompiledRate {
  readonly ratingGroup: number;
  readonly incrementUnits: bigint;
  readonly connectFee: Decimal;
  /** price × incrementUnits ÷ perUnits, kept exact to the precision of the Decimal clone. */
  readonly pricePerIncrement: Decimal;
  readonly rounding: Rounding;
  /** The same rate in the engine's compiled form. */
  readonly rule: CompiledRateRule;
}

export interface CompiledTariff {
  readonly id: string;
  readonly currency: string;
  readonly finalUnitAction: FinalUnitActionName;
  readonly rates: ReadonlyMap<number, CompiledRate>;
  /** The same tariff in the engine's document form, for price enquiries and breakdowns. */
  readonly document: CompiledTariffDocument;
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

export function compileTariff(definition: TariffDefinition): CompiledTariff {
  const rates = new Map<number, CompiledRate>();
  definition.rates.forEach((rate, index) => {
    rates.set(rate.ratingGroup, {
      ratingGroup: rate.ratingGroup,
      incrementUnits: BigInt(rate.incrementUnits),
      connectFee: new Decimal(rate.connectFee),
      pricePerIncrement: new Decimal(rate.price).times(rate.incrementUnits).dividedBy(rate.perUnits),
      rounding: { ...definition.rounding },
      rule: compileRateRule(rateDocumentOf(rate), index, NO_NAMES),
    });
  });
  return Object.freeze({
    id: definition.id,
    currency: definition.currency,
    finalUnitAction: definition.finalUnitAction,
    rates,
    document: compileTariffDocument(tariffDocumentOf(definition)),
  });
}

// Tariff definitions as the catalog stores them, and their compiled, ready-to-rate form.
import { Decimal } from './decimal.js';

export type RoundingMode = 'up' | 'down' | 'half-even';
export type FinalUnitActionName = 'terminate' | 'redirect' | 'restrict-access';

export interface Rounding {
  mode: RoundingMode;
  /** Decimals of the currency unit kept after rounding, 0..6. */
  decimals: number;
}

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
}

export interface CompiledTariff {
  readonly id: string;
  readonly currency: string;
  readonly finalUnitAction: FinalUnitActionName;
  readonly rates: ReadonlyMap<number, CompiledRate>;
}

export function compileTariff(definition: TariffDefinition): CompiledTariff {
  const rates = new Map<number, CompiledRate>();
  for (const rate of definition.rates) {
    rates.set(rate.ratingGroup, {
      ratingGroup: rate.ratingGroup,
      incrementUnits: BigInt(rate.incrementUnits),
      connectFee: new Decimal(rate.connectFee),
      pricePerIncrement: new Decimal(rate.price).times(rate.incrementUnits).dividedBy(rate.perUnits),
      rounding: { ...definition.rounding },
    });
  }
  return Object.freeze({
    id: definition.id,
    currency: definition.currency,
    finalUnitAction: definition.finalUnitAction,
    rates,
  });
}

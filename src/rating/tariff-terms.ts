// Words every tariff form shares, the stored per-unit definitions and the tariff format alike;
// a leaf module, so the tariff modules can all use them without importing one another.
export type RoundingMode = 'up' | 'down' | 'half-even';
export type FinalUnitActionName = 'terminate' | 'redirect' | 'restrict-access';

export interface Rounding {
  mode: RoundingMode;
  /** Decimals of the currency unit kept after rounding, 0..6. */
  decimals: number;
}

// A private decimal.js clone, so no other library's global settings can change how we round.
// 60 significant digits hold 2^53 units times any price the catalog accepts without loss.
import { Decimal as DecimalJs } from 'decimal.js';

export const Decimal = DecimalJs.clone({
  precision: 60,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -60,
  toExpPos: 60,
});
export type Decimal = DecimalJs;
export type DecimalRounding = DecimalJs.Rounding;

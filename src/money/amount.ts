// Money inside is integer micro-units (10^-6 of the currency unit); outside it is a decimal
// string. This is the one place where amounts cross between the two forms.

export const MICROS_PER_UNIT = 1_000_000n;
/** Lua holds amounts in doubles while it compares them, which are exact up to 2^53 - 1. */
export const AMOUNT_MICROS_MAX = BigInt(Number.MAX_SAFE_INTEGER);

const DECIMAL_PATTERN = /^(-?)(\d{1,16})(?:\.(\d{1,6}))?$/;

export type AmountParse = { ok: true; micros: bigint } | { ok: false; reason: string };

/** "12.5" → 12500000n. At most 6 decimals, so nothing is ever rounded on the way in. */
export function parseAmount(text: unknown): AmountParse {
  if (typeof text !== 'string') return { ok: false, reason: 'must be a decimal string such as "12.50"' };
  const match = DECIMAL_PATTERN.exec(text.trim());
  if (!match) return { ok: false, reason: 'must be a decimal string with at most 6 decimals, such as "12.50"' };
  const [, sign, whole, fraction = ''] = match;
  const magnitude = BigInt(whole!) * MICROS_PER_UNIT + BigInt(fraction.padEnd(6, '0'));
  if (magnitude > AMOUNT_MICROS_MAX) return { ok: false, reason: `must be at most ${formatMicros(AMOUNT_MICROS_MAX)}` };
  return { ok: true, micros: sign === '-' ? -magnitude : magnitude };
}

/** 12500000 → "12.500000": always six decimals, so equal amounts are equal strings. */
export function formatMicros(micros: bigint | number | string): string {
  const value = BigInt(micros);
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const whole = magnitude / MICROS_PER_UNIT;
  const fraction = (magnitude % MICROS_PER_UNIT).toString().padStart(6, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

import { describe, expect, it } from 'vitest';
import { formatMicros, parseAmount } from '../../src/money/amount.js';
import { isCurrency } from '../../src/money/currency.js';

describe('parseAmount', () => {
  it.each([
    ['12.5', 12_500_000n],
    ['0.000001', 1n],
    ['-3', -3_000_000n],
    ['9007199254.740991', 9_007_199_254_740_991n],
  ])('reads %s as %s micros', (text, micros) => {
    expect(parseAmount(text)).toEqual({ ok: true, micros });
  });

  it.each(['', '1.0000001', 'abc', '1e3', '1,50', ' ', '9007199254.740992', 12])('refuses %j', (text) => {
    expect(parseAmount(text).ok).toBe(false);
  });
});

describe('formatMicros', () => {
  it.each([
    [0n, '0.000000'],
    [1n, '0.000001'],
    [-500_000n, '-0.500000'],
    ['9007199254740991', '9007199254.740991'],
  ])('writes %s as %s', (micros, text) => {
    expect(formatMicros(micros)).toBe(text);
  });
});

describe('isCurrency', () => {
  it.each([['EUR', true], ['USD', true], ['XXX', false], ['eur', false], ['EURO', false], [undefined, false]])('%s → %s', (code, expected) => {
    expect(isCurrency(code)).toBe(expected);
  });
});

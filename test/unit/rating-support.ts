// Shared by the rating tests: tariffs from plain documents, and amounts as strings.
import { formatMicros } from '../../src/money/amount.js';
import { compileTariffDocument, type CompiledTariffDocument } from '../../src/rating/compiled-tariff.js';
import type { Rating, RatingFailure } from '../../src/rating/rate-usage.js';
import { parseTariffDocument } from '../../src/rating/tariff-document.js';

/** Parses (so a test tariff is as valid as an operator's) and compiles. */
export function tariffOf(document: Record<string, unknown>): CompiledTariffDocument {
  return compileTariffDocument(parseTariffDocument({ name: 'test', currency: 'EUR', ...document }));
}

export function rated(result: Rating | RatingFailure): Rating {
  if (!result.ok) throw new Error(`rating failed: ${result.message}`);
  return result;
}

export function amountOf(result: Rating | RatingFailure): string {
  return formatMicros(rated(result).amountMicros);
}

export const GB = 1_000_000_000;

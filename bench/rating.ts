// Ratings per second on one core: the pure rating engine alone, no I/O. A simple tariff (one
// per-unit data price, as I1) and a complex one (5 time bands, 4 graduated tiers with band
// prices, 10 zones, a feature rate, in Europe/Berlin), each rated over a pre-built mix of
// usages, so only rating is timed. Several rounds; the median is reported against the targets.
//
//   npm run bench:rating
import { performance } from 'node:perf_hooks';
import { compileTariffDocument, type CompiledTariffDocument } from '../src/rating/compiled-tariff.js';
import { affordableUsage, NEW_SESSION, rateUsage, type RatingContext, type Usage } from '../src/rating/rate-usage.js';
import { parseTariffDocument } from '../src/rating/tariff-document.js';
import { COMPLEX_TARIFF, COUNTRIES, DATA, GB, SIMPLE_TARIFF } from './tariffs.js';

const ROUNDS = 7;
const ROUND_MS = 1000;
const USAGES_COUNT = 4096;
const TARGETS = { simple: 200_000, complex: 50_000 };

const simpleTariff = compileTariffDocument(parseTariffDocument(SIMPLE_TARIFF));
const complexTariff = compileTariffDocument(parseTariffDocument(COMPLEX_TARIFF));

/** A deterministic generator, so every run rates the same mix. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

interface Case {
  usage: Usage;
  context: RatingContext;
}

function simpleCases(): Case[] {
  const next = random(1);
  return Array.from({ length: USAGES_COUNT }, () => ({
    usage: { ratingGroup: DATA, unit: 'bytes' as const, units: BigInt(Math.floor(next() * 50_000_000)), startMs: Date.UTC(2025, 5, 4, 12) },
    context: NEW_SESSION,
  }));
}

/** Reports of up to 2 hours and 2 GB over the whole of 2025, in every zone: about one in four crosses a band or tier. */
function complexCases(): Case[] {
  const next = random(2);
  const networks = [['262', '01'], ['262', '02'], ...COUNTRIES.map((mcc) => [mcc, '10']), ['999', '99']];
  return Array.from({ length: USAGES_COUNT }, () => {
    const startMs = Date.UTC(2025, 0, 1) + Math.floor(next() * 364 * 86_400_000);
    const [mcc, mnc] = networks[Math.floor(next() * networks.length)]!;
    const sessionUnitsBefore = next() < 0.5 ? 0n : BigInt(Math.floor(next() * 100_000_000));
    return {
      usage: {
        ratingGroup: DATA, unit: 'bytes' as const, units: BigInt(Math.floor(next() * 2 * GB)), startMs, endMs: startMs + Math.floor(next() * 7_200_000),
        location: { mcc, mnc }, attributes: next() < 0.3 ? { apn: 'iot.m2m' } : {},
      },
      context: { sessionUnitsBefore, sessionRatedMicrosBefore: sessionUnitsBefore === 0n ? 0n : 100_000n, periodUnitsBefore: sessionUnitsBefore + BigInt(Math.floor(next() * 30 * GB)) },
    };
  });
}

type Operation = (tariff: CompiledTariffDocument, each: Case) => bigint;

const rate: Operation = (tariff, each) => {
  const rating = rateUsage(tariff, each.usage, each.context);
  return rating.ok ? rating.amountMicros : 0n;
};

const afford: Operation = (tariff, each) => {
  const found = affordableUsage(tariff, each.usage, each.context, 2_000_000n);
  return found.ok ? found.units : 0n;
};

/** Operations per second over one round of about ROUND_MS. */
function round(operation: Operation, tariff: CompiledTariffDocument, cases: Case[]): { perSecond: number; sink: bigint } {
  let sink = 0n;
  let count = 0;
  const startedMs = performance.now();
  let elapsedMs = 0;
  while (elapsedMs < ROUND_MS) {
    for (let index = 0; index < 1024; index++) sink += operation(tariff, cases[(count + index) % cases.length]!);
    count += 1024;
    elapsedMs = performance.now() - startedMs;
  }
  return { perSecond: (count * 1000) / elapsedMs, sink };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function measure(name: string, operation: Operation, tariff: CompiledTariffDocument, cases: Case[], target?: number): void {
  round(operation, tariff, cases); // warm-up: JIT, time zone tables
  const rounds = Array.from({ length: ROUNDS }, () => round(operation, tariff, cases).perSecond);
  const verdict = target === undefined ? '' : `  target ≥ ${target.toLocaleString('en-US')}/s: ${median(rounds) >= target ? 'pass' : 'FAIL'}`;
  const spread = `(rounds ${Math.round(Math.min(...rounds)).toLocaleString('en-US')}–${Math.round(Math.max(...rounds)).toLocaleString('en-US')})`;
  console.log(`${name.padEnd(40)} ${Math.round(median(rounds)).toLocaleString('en-US').padStart(10)}/s median of ${ROUNDS} ${spread}${verdict}`);
}

const simple = simpleCases();
const complex = complexCases();
console.log(`rating, one core, node ${process.version}`);
measure('simple tariff: rate', rate, simpleTariff, simple, TARGETS.simple);
measure('complex tariff: rate', rate, complexTariff, complex, TARGETS.complex);
measure('complex tariff: most units for a budget', afford, complexTariff, complex);

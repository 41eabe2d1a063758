// Latencies as both load generators keep them: every OK call's latency in ns, in a compact
// array that structured clone copies as is, so the parent merges percentiles exactly instead
// of averaging per-process ones (wrong whenever processes compete for the same cores).
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface LatencySummary {
  latencyMsP50: number;
  latencyMsP90: number;
  latencyMsP99: number;
  latencyMsMax: number;
  latencyMsMean: number;
}

/** A growing array of latencies; `samplesMax` bounds its memory (0 keeps none). */
export class LatencySamples {
  private samplesNs: Float64Array;
  private count = 0;

  constructor(private readonly samplesMax = Number.MAX_SAFE_INTEGER) {
    this.samplesNs = new Float64Array(Math.min(samplesMax, 1 << 16));
  }

  /** Returns the latency in ns as recorded: an integer ≥ 1, as histograms take. */
  record(latencyMs: number): number {
    const latencyNs = Math.max(1, Math.round(latencyMs * 1e6));
    if (this.count === this.samplesNs.length) this.grow();
    this.samplesNs[this.count++] = latencyNs;
    return latencyNs;
  }

  values(): Float64Array {
    return this.samplesNs.slice(0, this.count);
  }

  private grow(): void {
    if (this.samplesNs.length >= this.samplesMax) throw new RangeError(`more than ${this.samplesMax} latency samples`);
    const grown = new Float64Array(Math.min(this.samplesMax, Math.max(1, this.samplesNs.length * 2)));
    grown.set(this.samplesNs);
    this.samplesNs = grown;
  }
}

export function mergedHistogram(samplesList: readonly Float64Array[]): RecordableHistogram {
  const histogram = createHistogram();
  for (const samples of samplesList) for (let index = 0; index < samples.length; index++) histogram.record(samples[index]!);
  return histogram;
}

export function latencySummary(histogram: RecordableHistogram): LatencySummary {
  const ms = (ns: number) => (histogram.count === 0 ? 0 : Math.round(ns / 1e3) / 1e3);
  return {
    latencyMsP50: ms(histogram.percentile(50)),
    latencyMsP90: ms(histogram.percentile(90)),
    latencyMsP99: ms(histogram.percentile(99)),
    latencyMsMax: ms(histogram.max),
    latencyMsMean: ms(histogram.mean),
  };
}

export function addCounts(countsList: readonly Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const counts of countsList) for (const [key, count] of Object.entries(counts)) total[key] = (total[key] ?? 0) + count;
  return total;
}

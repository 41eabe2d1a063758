// UTC offsets of an IANA time zone, for turning instants into the wall-clock time bands are
// written in. Asking Intl on every rating would cost microseconds each time, so each zone learns
// its offset changes once per window of about a year (sampled every 6 hours, each change then
// found to the second) and answers from that table afterwards.
//
// Assumption, true of the tz database since 1970: a zone changes its offset at most once in any
// 6 hours.

const WINDOW_MS = 2 ** 35; // about 398 days
const SAMPLE_MS = 6 * 3_600_000;
const WINDOWS_CACHED_MAX = 64;
const TIME_ZONES_CACHED_MAX = 1024;

/** The offset in force at an instant, and until when (exclusive) it stays in force at least. */
export interface OffsetRun {
  offsetMs: number;
  untilMs: number;
}

interface Window {
  /** `offsetsMs[0]` from the window's start, `offsetsMs[k]` from `changesAtMs[k - 1]`. */
  changesAtMs: number[];
  offsetsMs: number[];
  endMs: number;
}

class ZoneOffsets {
  private readonly format: Intl.DateTimeFormat;
  private readonly windows = new Map<number, Window>();

  constructor(timeZone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  }

  runAt(atMs: number): OffsetRun {
    const window = this.window(Math.floor(atMs / WINDOW_MS));
    let index = 0;
    while (index < window.changesAtMs.length && window.changesAtMs[index]! <= atMs) index++;
    return { offsetMs: window.offsetsMs[index]!, untilMs: window.changesAtMs[index] ?? window.endMs };
  }

  private window(number: number): Window {
    let window = this.windows.get(number);
    if (window === undefined) {
      if (this.windows.size >= WINDOWS_CACHED_MAX) this.windows.clear();
      window = this.learn(number * WINDOW_MS, (number + 1) * WINDOW_MS);
      this.windows.set(number, window);
    }
    return window;
  }

  private learn(startMs: number, endMs: number): Window {
    const window: Window = { changesAtMs: [], offsetsMs: [this.offsetAt(startMs)], endMs };
    let before = startMs;
    for (let sample = startMs + SAMPLE_MS; before < endMs; sample = Math.min(sample + SAMPLE_MS, endMs)) {
      const offset = this.offsetAt(sample);
      if (offset !== window.offsetsMs.at(-1)) {
        window.changesAtMs.push(this.firstSecondWith(offset, before, sample));
        window.offsetsMs.push(offset);
      }
      before = sample;
    }
    return window;
  }

  /** The first whole second in (beforeMs, atMs] whose offset is `offset`, by bisection. */
  private firstSecondWith(offset: number, beforeMs: number, atMs: number): number {
    let low = Math.floor(beforeMs / 1000);
    let high = Math.floor(atMs / 1000);
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (this.offsetAt(middle * 1000) === offset) high = middle;
      else low = middle;
    }
    return high * 1000;
  }

  private offsetAt(atMs: number): number {
    const fields: Record<string, number> = {};
    for (const part of this.format.formatToParts(atMs)) if (part.type !== 'literal') fields[part.type] = Number(part.value);
    const wallMs = Date.UTC(fields.year!, fields.month! - 1, fields.day!, fields.hour!, fields.minute!, fields.second!);
    return wallMs - Math.floor(atMs / 1000) * 1000;
  }
}

const UTC_RUN: OffsetRun = Object.freeze({ offsetMs: 0, untilMs: Number.POSITIVE_INFINITY });
const zones = new Map<string, ZoneOffsets>();

export function offsetRunAt(timeZone: string, atMs: number): OffsetRun {
  if (timeZone === 'UTC') return UTC_RUN;
  let zone = zones.get(timeZone);
  if (zone === undefined) {
    if (zones.size >= TIME_ZONES_CACHED_MAX) zones.clear();
    zone = new ZoneOffsets(timeZone);
    zones.set(timeZone, zone);
  }
  return zone.runAt(atMs);
}

// Which band is in force over a span of instants. A band is in force while the tariff's wall
// clock reads a time it covers, so across a DST change the wall clock decides: in Europe/Berlin
// the night of the last Sunday of March is an hour shorter and that of October an hour longer,
// and the repeated hour of October is in the band both times it is lived.
//
// The span is cut where the UTC offset changes; within each piece, local time is the instant
// plus a constant, and the day's band timeline is read in local minutes. Loops are bounded by
// the days the span covers (at most USAGE_SPAN_MS_MAX) times the changes in one day.
import { DAY_MINUTES, weekdayOfDayNumber, type BandCalendar, type DayTimeline } from './bands.js';
import { offsetRunAt } from './time-zone-offsets.js';

const MINUTE_MS = 60_000;
const DAY_MS = DAY_MINUTES * MINUTE_MS;
/** A usage spread over more than this is refused where bands apply: 31 days. */
export const USAGE_SPAN_MS_MAX = 31 * DAY_MS;

/** `bands[k]` (an index, or -1 for none) is in force from `startsMs[k]`; the first from the span's start. */
export interface BandChanges {
  startsMs: number[];
  bands: number[];
}

export interface CompiledBands {
  timeZone: string;
  names: string[];
  calendar: BandCalendar;
}

function timelineOfDay(calendar: BandCalendar, dayNumber: number): DayTimeline {
  return calendar.dates.get(dayNumber) ?? calendar.weekdays[weekdayOfDayNumber(dayNumber)]!;
}

function push(changes: BandChanges, atMs: number, band: number): void {
  if (changes.bands.at(-1) === band) return;
  if (changes.startsMs.at(-1) === atMs) changes.bands[changes.bands.length - 1] = band;
  else {
    changes.startsMs.push(atMs);
    changes.bands.push(band);
  }
}

/** The bands of local [fromMs, untilMs), each local instant mapped back by `offsetMs`. */
function walkLocal(calendar: BandCalendar, changes: BandChanges, fromLocalMs: number, untilLocalMs: number, offsetMs: number): void {
  let localMs = fromLocalMs;
  for (let day = Math.floor(localMs / DAY_MS); localMs < untilLocalMs; day++) {
    const timeline = timelineOfDay(calendar, day);
    const dayStartMs = day * DAY_MS;
    for (let entry = 0; entry < timeline.bands.length; entry++) {
      const entryEndMs = dayStartMs + (timeline.startMinutes[entry + 1] ?? DAY_MINUTES) * MINUTE_MS;
      if (entryEndMs <= localMs) continue;
      push(changes, localMs - offsetMs, timeline.bands[entry]!);
      localMs = entryEndMs;
      if (localMs >= untilLocalMs) return;
    }
  }
}

/** Bands over [startMs, endMs); an instant (endMs = startMs) has the one band in force then. */
export function bandChanges(bands: CompiledBands, startMs: number, endMs: number): BandChanges {
  const changes: BandChanges = { startsMs: [], bands: [] };
  let atMs = startMs;
  do {
    const run = offsetRunAt(bands.timeZone, atMs);
    const pieceEndMs = Math.max(Math.min(endMs, run.untilMs), atMs + 1);
    walkLocal(bands.calendar, changes, atMs + run.offsetMs, pieceEndMs + run.offsetMs, run.offsetMs);
    atMs = pieceEndMs;
  } while (atMs < endMs);
  return changes;
}

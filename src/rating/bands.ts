// Time bands as clock times on days of the week or on dates, in the tariff's own time zone.
// A band covers [from, until) of local wall-clock time from each day it names; an `until`
// earlier than `from` runs past midnight into the next day (so "fri 22:00-06:00" ends Saturday
// 06:00). Where bands overlap, the higher weight is in force; equal weights may not overlap,
// which validation checks exactly, minute by minute of the week.
//
// Everything here works on local minutes. Turning instants into local time, DST included, is
// band-runs.ts's job.
import type { BandDocument, Weekday } from './tariff-format.js';

export const DAY_MINUTES = 1440;
const WEEK_MINUTES = 7 * DAY_MINUTES;
const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
/** 1970-01-01 was a Thursday: Monday-based weekday 3. */
const EPOCH_WEEKDAY = 3;

/** [start, end) in minutes. */
interface Span {
  start: number;
  end: number;
}

export interface BandCoverage {
  /** In minutes of a week starting Monday 00:00; for bands that name days (or none). */
  weekly: Span[];
  /** In minutes since 1970-01-01 00:00 local; for bands that name dates. */
  dated: Span[];
}

/** A day's bands: `bands[k]` is in force from `startMinutes[k]` (the first is 0) to the next. */
export interface DayTimeline {
  startMinutes: number[];
  /** Band index, or -1 where no band is in force. */
  bands: number[];
}

export function minutesOfClock(clock: string | undefined, fallback: number): number {
  if (clock === undefined) return fallback;
  const [hours, minutes] = clock.split(':').map(Number) as [number, number];
  return hours * 60 + minutes;
}

/** Days since 1970-01-01 of a "YYYY-MM-DD" date. */
export function dayNumberOfDate(date: string): number {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(year, month - 1, day) / 86_400_000;
}

export function weekdayOfDayNumber(dayNumber: number): number {
  return (((dayNumber + EPOCH_WEEKDAY) % 7) + 7) % 7;
}

export function bandCoverage(band: BandDocument): BandCoverage {
  const from = minutesOfClock(band.from, 0);
  const until = minutesOfClock(band.until, DAY_MINUTES);
  const length = until > from ? until - from : DAY_MINUTES - from + until;
  if (band.dates !== undefined) {
    return { weekly: [], dated: band.dates.map((date) => ({ start: dayNumberOfDate(date) * DAY_MINUTES + from, end: dayNumberOfDate(date) * DAY_MINUTES + from + length })) };
  }
  const days = band.days ?? WEEKDAYS;
  return { weekly: days.flatMap((day) => wrapWeek(WEEKDAYS.indexOf(day) * DAY_MINUTES + from, length)), dated: [] };
}

/** A span of `length` minutes from `start` in the week, split where it wraps past Sunday. */
function wrapWeek(start: number, length: number): Span[] {
  const end = start + length;
  return end <= WEEK_MINUTES ? [{ start, end }] : [{ start, end: WEEK_MINUTES }, { start: 0, end: end - WEEK_MINUTES }];
}

function datedInWeek(span: Span): Span[] {
  const dayNumber = Math.floor(span.start / DAY_MINUTES);
  return wrapWeek(weekdayOfDayNumber(dayNumber) * DAY_MINUTES + (span.start - dayNumber * DAY_MINUTES), span.end - span.start);
}

function intersects(left: Span[], right: Span[]): boolean {
  return left.some((a) => right.some((b) => a.start < b.end && b.start < a.end));
}

export function coveragesOverlap(left: BandCoverage, right: BandCoverage): boolean {
  return intersects(left.weekly, right.weekly)
    || intersects(left.dated, right.dated)
    || intersects(left.dated.flatMap(datedInWeek), right.weekly)
    || intersects(left.weekly, right.dated.flatMap(datedInWeek));
}

interface WeightedSpan extends Span {
  band: number;
  weight: number;
}

/** Pieces of coverage within one day, as minutes of that day. */
function clipToDay(spans: Span[], dayStart: number, band: number, weight: number): WeightedSpan[] {
  const pieces: WeightedSpan[] = [];
  for (const span of spans) {
    const start = Math.max(span.start, dayStart);
    const end = Math.min(span.end, dayStart + DAY_MINUTES);
    if (start < end) pieces.push({ start: start - dayStart, end: end - dayStart, band, weight });
  }
  return pieces;
}

/** The band in force through each stretch of a day: the heaviest covering piece. */
function timelineOf(pieces: WeightedSpan[]): DayTimeline {
  const points = [...new Set([0, ...pieces.flatMap((piece) => [piece.start, piece.end])])].filter((point) => point < DAY_MINUTES).sort((a, b) => a - b);
  const timeline: DayTimeline = { startMinutes: [], bands: [] };
  for (const point of points) {
    let winner: WeightedSpan | undefined;
    for (const piece of pieces) if (piece.start <= point && point < piece.end && (winner === undefined || piece.weight > winner.weight)) winner = piece;
    const band = winner?.band ?? -1;
    if (timeline.bands.at(-1) === band) continue;
    timeline.startMinutes.push(point);
    timeline.bands.push(band);
  }
  return timeline;
}

export interface BandCalendar {
  /** By Monday-based weekday. */
  weekdays: DayTimeline[];
  /** Days (since 1970-01-01, local) that a dated band touches. */
  dates: Map<number, DayTimeline>;
}

export function bandCalendar(bands: readonly BandDocument[]): BandCalendar {
  const coverages = bands.map(bandCoverage);
  const weekPieces = (weekday: number): WeightedSpan[] =>
    coverages.flatMap((coverage, band) => clipToDay(coverage.weekly, weekday * DAY_MINUTES, band, bands[band]!.weight));
  const weekdays = [0, 1, 2, 3, 4, 5, 6].map((weekday) => timelineOf(weekPieces(weekday)));
  const dates = new Map<number, DayTimeline>();
  const datedDays = new Set(coverages.flatMap((coverage) => coverage.dated.flatMap((span) => [Math.floor(span.start / DAY_MINUTES), Math.floor((span.end - 1) / DAY_MINUTES)])));
  for (const day of datedDays) {
    const dated = coverages.flatMap((coverage, band) => clipToDay(coverage.dated, day * DAY_MINUTES, band, bands[band]!.weight));
    dates.set(day, timelineOf([...weekPieces(weekdayOfDayNumber(day)), ...dated]));
  }
  return { weekdays, dates };
}

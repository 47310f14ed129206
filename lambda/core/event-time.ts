import type { MonitorEvent } from "./ports";

// DocuSign sends `2023-03-03T09:10:06.0512813Z` (up to 7 fractional digits). Date.parse alone is too
// lenient (it rolls Feb 30 over to March and reads a missing offset as local time), so the shape is checked first.
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Epoch ms of an ISO-8601 date-time with an offset, or undefined when it is not one. */
export function parseEventTime(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const m = ISO_DATE_TIME.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = "0", frac = "0", zone = "Z"] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return undefined;
  const lastOfMonth = new Date(0);
  lastOfMonth.setUTCFullYear(year, month, 0);
  const daysInMonth = lastOfMonth.getUTCDate();
  if (day < 1 || day > daysInMonth) return undefined;
  const ms = Math.floor(Number(`0.${frac}`) * 1000);
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const offsetHours = Number(digits.slice(0, 2));
    const offsetMins = Number(digits.slice(2));
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = sign * (offsetHours * 60 + offsetMins);
  }
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, Math.min(second, 59), ms);
  return date.getTime() - offsetMinutes * 60_000;
}

/** The first instant an event's own day is read from: DocuSign Monitor has no events from before 1970. */
export const TIMED_FROM_MS = 0;
/**
 * The end (exclusive) of the instants an event's own day is read from: 2100-01-01T00:00:00Z. A fixed
 * bound, never the ingest clock, so that an event's day depends on its text alone; far beyond any event
 * DocuSign stamps, and short of the year 10000, which no `YYYY-MM-DD` can name.
 */
export const TIMED_UNTIL_MS = Date.UTC(2100, 0, 1);
/**
 * The `dt` of every "untimed" event (its timestamp missing, not a string, unreadable, before 1970 or
 * from 2100 on): the day of the Unix epoch, where a timestamp of 0 lands too. A date, so that every
 * reader of `dt` as a date keeps working; before any `projectionStart`, so that the Athena tables read it
 * through a table of its own (infra/athena-schema.ts, EVENTS_UNTIMED_LINES) and no projection has to
 * list the days from 1970 on.
 */
export const UNTIMED_DAY = "1970-01-01";
/** Events more than this ahead of the ingest clock are not the stream's newest event time: a clock skew is minutes, not a day. */
export const MAX_FUTURE_SKEW_MS = 24 * 3600 * 1000;

/**
 * The event's own time, from its `timestamp` field alone, or undefined when the event is "untimed":
 * the timestamp is missing, not a string, unreadable, before 1970 or from 2100 on.
 */
export function timedEventMs(event: MonitorEvent): number | undefined {
  const time = parseEventTime(event.timestamp);
  return time === undefined || time < TIMED_FROM_MS || time >= TIMED_UNTIL_MS ? undefined : time;
}

/**
 * The `dt` an event is filed under: the UTC day of its own time, else UNTIMED_DAY. A function of the
 * event's text alone, never of when it was ingested, so that every delivery of one event lands in the
 * same day (and `events_dedup`, which deduplicates within a day, shows it once).
 */
export function eventDay(event: MonitorEvent): string {
  return dayOfTime(timedEventMs(event));
}

/** The `dt` of an event whose own time is `timedMs` (from timedEventMs): its UTC day, or UNTIMED_DAY. */
export function dayOfTime(timedMs: number | undefined): string {
  return timedMs === undefined ? UNTIMED_DAY : utcDay(timedMs);
}

/**
 * The event's time for metrics only (the stream's newest event time, the lag, detection data points):
 * its own time, unless it is untimed or more than a day after `ingestMs`, so that a timestamp stamped
 * ahead (a year-2099 one) never pins the lag metric at 0. Never used for an event's day (eventDay).
 */
export function eventTime(event: MonitorEvent, ingestMs: number): number | undefined {
  const time = timedEventMs(event);
  return time === undefined || time > ingestMs + MAX_FUTURE_SKEW_MS ? undefined : time;
}

/** `YYYY-MM-DD` of an epoch-ms instant, in UTC. Throws for years outside 0000-9999, which no key may hold. */
export function utcDay(epochMs: number): string {
  const day = new Date(epochMs).toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError(`no YYYY-MM-DD day for epoch ms ${epochMs}`);
  return day;
}

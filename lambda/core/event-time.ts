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

/** Events older than this are "untimed": DocuSign Monitor has no events from before 1970. */
export const EARLIEST_EVENT_MS = 0;
/** Events more than this ahead of the ingestion time are "untimed": a clock skew is minutes, not a day. */
export const MAX_FUTURE_SKEW_MS = 24 * 3600 * 1000;

/**
 * The event's own time, from its `timestamp` field, or undefined when the event is "untimed": the
 * timestamp is missing or unreadable, before 1970, or more than a day after `ingestMs`. Untimed events
 * are filed under the ingestion day and counted; they never become the stream's newest event time,
 * so a year-9999 timestamp can neither make a `dt=+010000-...` partition nor pin the lag metric at 0.
 */
export function eventTime(event: MonitorEvent, ingestMs: number): number | undefined {
  const time = parseEventTime(event.timestamp);
  if (time === undefined || time < EARLIEST_EVENT_MS || time > ingestMs + MAX_FUTURE_SKEW_MS)
    return undefined;
  return time;
}

/** `YYYY-MM-DD` of an epoch-ms instant, in UTC. Throws for years outside 0000-9999, which no key may hold. */
export function utcDay(epochMs: number): string {
  const day = new Date(epochMs).toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError(`no YYYY-MM-DD day for epoch ms ${epochMs}`);
  return day;
}

/**
 * The first `dt` of the Athena partition projection (both `events` tables). Athena lists every day of
 * the range for a query without a `dt` filter, so a range that starts long before the first event
 * makes such queries slow (AWS: sparse projections). Construct prop and CDK context key
 * `projectionStart`.
 */

import { UNTIMED_DAY } from "../lambda/core/event-time";

/** When nothing says where the streams start: they start seven days back, at the first deploy. */
export const DEFAULT_PROJECTION_START = "2020-01-01";

/**
 * `configured` (yyyy-MM-dd) when given; otherwise the UTC day of the earliest `startCursor` when every
 * stream has one that is a date-time (events are filed under the day of their own timestamp, and a
 * stream stores nothing from before its start); otherwise DEFAULT_PROJECTION_START. Throws an Error
 * naming the fix when `configured` is not a real date, or not after UNTIMED_DAY (1970-01-01), the day
 * events_lines_untimed reads alone.
 */
export function projectionStart(
  configured: string | undefined,
  streams: readonly { readonly startCursor?: string }[],
): string {
  if (configured !== undefined) {
    if (!isDay(configured)) {
      throw new Error(
        `projectionStart "${configured}" is not a date: give the first day to query as yyyy-MM-dd ` +
          "(e.g. -c projectionStart=2024-01-01), at or before the first event's day.",
      );
    }
    if (configured <= UNTIMED_DAY) {
      throw new Error(
        `projectionStart "${configured}" is not after ${UNTIMED_DAY}, the untimed day that events_lines_untimed ` +
          "reads: events_lines would read that day too and every untimed event would appear twice. Give the " +
          "first day of the streams' events (e.g. -c projectionStart=2024-01-01).",
      );
    }
    return configured;
  }
  const starts = streams.map((s) =>
    s.startCursor !== undefined && /^\d{4}-\d{2}-\d{2}/.test(s.startCursor)
      ? Date.parse(s.startCursor)
      : Number.NaN,
  );
  if (starts.length === 0 || starts.some((t) => Number.isNaN(t))) return DEFAULT_PROJECTION_START;
  // No event before 1970 has a day of its own (it is untimed), so a start before then starts the day after UNTIMED_DAY.
  return new Date(Math.max(Math.min(...starts), Date.parse(`${UNTIMED_DAY}T00:00:00Z`) + 86_400_000))
    .toISOString()
    .slice(0, 10);
}

function isDay(text: string): boolean {
  const time = Date.parse(`${text}T00:00:00Z`);
  return (
    /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(time) && new Date(time).toISOString().startsWith(text)
  );
}

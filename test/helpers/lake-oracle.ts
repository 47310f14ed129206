import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

/** One stored event with the `dt` of the folder it is in. */
export interface LakeRow {
  readonly dt: string;
  readonly event: Record<string, unknown>;
}

/** Every line of every object under `<lake>/events/`, duplicates included. */
export async function readLake(lake: string): Promise<LakeRow[]> {
  return (await readLines(lake)).map(({ dt, line }) => ({
    dt,
    event: JSON.parse(line) as Record<string, unknown>,
  }));
}

/** The text of every line of every object under `<lake>/events/`, with its `dt`, in object-name order. */
export async function readLines(lake: string): Promise<{ dt: string; line: string }[]> {
  const lines: { dt: string; line: string }[] = [];
  const dir = join(lake, "events");
  for (const day of (await readdir(dir)).sort()) {
    const dt = /^dt=(\d{4}-\d{2}-\d{2})$/.exec(day)?.[1];
    if (!dt) continue;
    for (const file of (await readdir(join(dir, day))).sort()) {
      const text = gunzipSync(await readFile(join(dir, day, file))).toString("utf8");
      for (const line of text.split("\n")) if (line !== "") lines.push({ dt, line });
    }
  }
  return lines;
}

/** The first copy of each eventId: what `events_dedup` must return. */
export function unique(rows: readonly LakeRow[]): LakeRow[] {
  const seen = new Set<unknown>();
  return rows.filter((r) => {
    if (seen.has(r.event.eventId)) return false;
    seen.add(r.event.eventId);
    return true;
  });
}

/**
 * Epoch milliseconds of a DocuSign timestamp (`...:SSZ` with 0 to 7 fractional digits), cut to
 * milliseconds; null when it is not one. Written independently of the view's SQL.
 */
export function eventTimeMs(timestamp: unknown): number | null {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(String(timestamp));
  if (!m) return null;
  return Date.parse(`${m[1]}.${`${m[2] ?? ""}000`.slice(0, 3)}Z`);
}

/** Trino's text for a `timestamp(3) with time zone` in UTC: `2026-01-02 03:04:05.678 UTC`. */
export function trinoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace("T", " ").replace("Z", " UTC");
}

/** Trino's text for events_curated's event_time (UTC, no zone, milliseconds): `2026-01-02 03:04:05.678`. */
export function curatedTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

/** `yyyy-MM-dd` `days` before the date `today` (also `yyyy-MM-dd`). */
export function daysBefore(today: string, days: number): string {
  return new Date(Date.parse(`${today}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}

/** Rows as comparable strings, sorted: the same multiset of rows whatever their order. */
export function rowSet(rows: readonly unknown[][]): string[] {
  return rows.map((r) => JSON.stringify(r)).sort();
}

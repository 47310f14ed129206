/**
 * The curation's SQL over the columns of curated-schema.ts: the window of the next merge, the merge
 * that inserts each raw event once, and the table's maintenance. The curation state machine runs it in
 * Athena; the Trino tests run the same text.
 */
import { UNTIMED_DAY } from "../lambda/core/event-time";
import { CURATED_COLUMNS, CURATED_TABLE, LINES_TABLE, UNTIMED_LINES_TABLE } from "./curated-schema";

/**
 * How far before the newest merged object's modification time the next merge starts reading: an
 * object becomes visible when its upload ends, after the time S3 stamps on it, so a merge that listed
 * the lake while an upload was under way must not skip it next time. Far longer than any upload of
 * the ingester (its timeout is minutes); what is read twice is not inserted twice.
 */
export const WATERMARK_OVERLAP_MINUTES = 60;

/**
 * How many days of raw partitions before the watermark's day an incremental merge reads. Neither
 * engine skips an object by its modification time before reading it, so the partitions bound what a
 * merge costs; an event that arrives later than this for an older day is merged by the weekly full
 * merge, which reads every partition.
 */
export const DEFAULT_LOOKBACK_DAYS = 3;

export interface MergeWindow {
  /** UTC `yyyy-MM-dd HH:mm:ss[.SSSSSS]`: rows of objects modified since this, less the overlap, are read. */
  readonly watermark: string;
  /** `yyyy-MM-dd`: the first raw partition read. */
  readonly fromDay: string;
}

/** The window of a full merge: every object of every partition. */
export const FULL_WINDOW: MergeWindow = { watermark: "1970-01-01 00:00:00.000000", fromDay: "1970-01-01" };

/**
 * The window of the next incremental merge, one row (`watermark`, `from_day`): the newest merged
 * object's time, and the day `lookbackDays` before it; the full window while the table is empty.
 */
export function watermarkSql(database: string, lookbackDays = DEFAULT_LOOKBACK_DAYS): string {
  return (
    `SELECT CAST(coalesce(w, TIMESTAMP '${FULL_WINDOW.watermark}') AS varchar) AS "watermark", ` +
    `CAST(coalesce(CAST(w - INTERVAL '${lookbackDays}' DAY AS date), DATE '${FULL_WINDOW.fromDay}') AS varchar) AS "from_day" ` +
    `FROM (SELECT max("source_time") AS w FROM "${database}"."${CURATED_TABLE}")`
  );
}

/**
 * Inserts every raw row of partitions from `fromDay` on, in objects modified since the watermark
 * (less the overlap), that the table does not hold yet. An event is identified by its stream, its
 * `key_day` and its eventId (its line's SHA-256 when it has none): copies of one event share all
 * three, whatever object holds them, so a re-run, an overlapping window or a replayed object
 * inserts nothing twice. The source keeps one row per identity (ties: the first object name), so
 * one merge never inserts two copies either. Iceberg commits it atomically: a merge that fails
 * inserts nothing.
 *
 * An untimed event (filed under 1970-01-01, lambda/core/event-time.ts) has an empty `key_day`,
 * like one an older version filed under its ingestion day: the two copies are one event.
 *
 * A source row's `key_day` is `fromDay` or later, or empty, so no target row of an earlier
 * `key_day` can match it: saying so in the ON clause changes no result and lets the engine skip
 * those target files (by their column statistics) instead of reading the whole table.
 */
export function mergeSql(database: string, window: MergeWindow): string {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$/.test(window.watermark)) {
    throw new Error(`watermark "${window.watermark}" is not a UTC time yyyy-MM-dd HH:mm:ss[.SSSSSS]`);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(window.fromDay))
    throw new Error(`from day "${window.fromDay}" is not yyyy-MM-dd`);
  return mergeSqlTemplate(database)
    .replaceAll(MERGE_PLACEHOLDERS.watermark, window.watermark)
    .replaceAll(MERGE_PLACEHOLDERS.fromDay, window.fromDay);
}

/**
 * Rows of one raw-lines table in partitions `days`, in objects modified since the watermark less the
 * overlap: `events_lines` from the window's first day, `events_lines_untimed` (its one day, 1970-01-01,
 * before any window) always, so that an untimed event is merged by the next merge, not only the weekly one.
 */
function rawSource(database: string, table: string, days: string): string {
  return `SELECT "line", "dt", "$path" AS "source_path",
          CAST("$file_modified_time" AT TIME ZONE 'UTC' AS timestamp(6)) AS "source_time"
        FROM "${database}"."${table}"
        WHERE ${days}
          AND "$file_modified_time" >= TIMESTAMP '${MERGE_PLACEHOLDERS.watermark} UTC' - INTERVAL '${WATERMARK_OVERLAP_MINUTES}' MINUTE`;
}

/** The markers of `mergeSqlTemplate` that the window fills in. */
export const MERGE_PLACEHOLDERS = { watermark: "__WATERMARK__", fromDay: "__FROM_DAY__" } as const;

/** The merge with the window's placeholders left in, for the state machine to fill in. */
export function mergeSqlTemplate(database: string): string {
  const typed = CURATED_COLUMNS.map((c) => `${c.sql} AS "${c.name}"`).join(",\n    ");
  const names = CURATED_COLUMNS.map((c) => `"${c.name}"`);
  const key = (t: string): string => `coalesce(nullif(${t}."event_id", ''), ${t}."line_sha256")`;
  return `MERGE INTO "${database}"."${CURATED_TABLE}" AS t
USING (
  SELECT ${names.join(", ")} FROM (
    SELECT *, row_number() OVER (PARTITION BY "stream", "key_day", ${key("typed")} ORDER BY "source_object") AS "copy"
    FROM (
      SELECT
    ${typed}
      FROM (
        ${rawSource(database, LINES_TABLE, `"dt" >= '${MERGE_PLACEHOLDERS.fromDay}'`)}
        UNION ALL
        ${rawSource(database, UNTIMED_LINES_TABLE, `"dt" = '${UNTIMED_DAY}'`)}
      )
    ) AS typed
  ) WHERE "copy" = 1
) AS s
ON t."stream" = s."stream" AND t."key_day" = s."key_day" AND ${key("t")} = ${key("s")}
  AND (t."key_day" >= '${MERGE_PLACEHOLDERS.fromDay}' OR t."key_day" = '')
WHEN NOT MATCHED THEN INSERT (${names.join(", ")})
VALUES (${names.map((n) => `s.${n}`).join(", ")})`;
}

/**
 * Table maintenance in Athena's syntax. Trino spells the same operations
 * `ALTER TABLE … EXECUTE optimize` and `ALTER TABLE … EXECUTE expire_snapshots(…)` /
 * `remove_orphan_files(…)` (test/helpers/trino-iceberg.ts).
 */
export function optimizeSql(database: string): string {
  return `OPTIMIZE "${database}"."${CURATED_TABLE}" REWRITE DATA USING BIN_PACK`;
}

/** Expires snapshots and removes orphan files older than the table's `vacuum_max_snapshot_age_seconds`. */
export function vacuumSql(database: string): string {
  return `VACUUM "${database}"."${CURATED_TABLE}"`;
}

/**
 * The curated table `events_curated`: each stored event once, typed, in Iceberg (Parquet, ZSTD),
 * kept by Athena. One definition feeds the Glue table of the template (its Iceberg schema and
 * partition spec), the curation state machine's SQL, and the Trino tests that run that SQL.
 *
 * The rows come from `events_lines` and `events_lines_untimed` (one string column `line`: each stored
 * line exactly as written)
 * and are typed with JSON functions, which behave alike in Athena and Trino (docs/ARCHITECTURE.md, "Athena").
 */
import { UNTIMED_DAY } from "../lambda/core/event-time";
import { EVENTS_LINES, EVENTS_UNTIMED_LINES, STREAM_FROM_PATH } from "./athena-schema";

export const CURATED_TABLE = "events_curated";
/** The raw lines table (one `line string` column, partition `dt`), defined beside `events`. */
export const LINES_TABLE = EVENTS_LINES.table;
/** The untimed day's raw lines table (the same shape, partition `dt` = 1970-01-01 only). */
export const UNTIMED_LINES_TABLE = EVENTS_UNTIMED_LINES.table;

export type IcebergType = "string" | "double" | "boolean" | "timestamp";

export interface CuratedColumn {
  /** Column name (lower case, as Glue and Athena keep them). */
  readonly name: string;
  readonly type: IcebergType;
  /** SQL over the raw row (`line`, `dt`, `source_path`, `source_time`) that fills the column. */
  readonly sql: string;
  readonly doc: string;
}

const text = (path: string): string => `json_extract_scalar(line, '${path}')`;
const number = (path: string): string => `try_cast(${text(path)} AS double)`;
/** DocuSign's ISO text cut to milliseconds (from_iso8601_timestamp takes no more), as UTC wall time. */
const EVENT_TIME = `CAST(try(from_iso8601_timestamp(regexp_replace(${text("$.timestamp")}, '(\\.\\d{3})\\d+', '$1'))) AT TIME ZONE 'UTC' AS timestamp(6))`;
/** Version parts joined with dots (`17.2.1`), null when none is sent. */
const version = (path: string): string =>
  `nullif(concat_ws('.', ${text(`${path}.major`)}, ${text(`${path}.minor`)}, ${text(`${path}.patch`)}), '')`;
/** The organization stream's top-level field, else the legacy stream's nested one. */
const either = (top: string, nested: string): string => `coalesce(nullif(${top}, ''), ${nested})`;

/** Every column, in table order. */
export const CURATED_COLUMNS: readonly CuratedColumn[] = [
  {
    name: "stream",
    type: "string",
    sql: STREAM_FROM_PATH,
    doc: "Stream (organization) id, from the object's name",
  },
  { name: "event_id", type: "string", sql: text("$.eventId"), doc: "DocuSign's eventId as sent" },
  {
    name: "event_time",
    type: "timestamp",
    sql: EVENT_TIME,
    doc: "The event's timestamp (UTC, milliseconds); null when unreadable",
  },
  { name: "dt", type: "string", sql: "dt", doc: "The raw partition (yyyy-MM-dd) the event is stored in" },
  {
    name: "key_day",
    type: "string",
    sql: `CASE WHEN dt <> '${UNTIMED_DAY}' AND CAST(CAST(${EVENT_TIME} AS date) AS varchar) = dt THEN dt ELSE '' END`,
    doc: "Part of the event's identity: dt when the event's own timestamp gives it (not the untimed day 1970-01-01), else empty",
  },
  {
    name: "line_sha256",
    type: "string",
    sql: `CASE WHEN coalesce(${text("$.eventId")}, '') = '' THEN lower(to_hex(sha256(to_utf8(line)))) END`,
    doc: "For an event without an eventId: SHA-256 of its line, its identity; else null",
  },
  { name: "site", type: "string", sql: text("$.site"), doc: "DocuSign site" },
  { name: "account_id", type: "string", sql: text("$.accountId"), doc: "Account id" },
  { name: "organization_id", type: "string", sql: text("$.organizationId"), doc: "Organization id" },
  { name: "user_id", type: "string", sql: text("$.userId"), doc: "Acting user" },
  {
    name: "referenced_user_id",
    type: "string",
    sql: text("$.referencedUserId"),
    doc: "User acted upon (organization stream)",
  },
  {
    name: "affected_user_id",
    type: "string",
    sql: text("$.affectedUserId"),
    doc: "Affected user (organization stream)",
  },
  {
    name: "integrator_key",
    type: "string",
    sql: text("$.integratorKey"),
    doc: "Integration key of the API client",
  },
  { name: "object", type: "string", sql: text("$.object"), doc: "Object acted on" },
  { name: "action", type: "string", sql: text("$.action"), doc: "Action" },
  { name: "property", type: "string", sql: text("$.property"), doc: "Property changed" },
  { name: "field", type: "string", sql: text("$.field"), doc: "Field changed" },
  { name: "result", type: "string", sql: text("$.result"), doc: "Success or Failed" },
  { name: "source", type: "string", sql: text("$.source"), doc: "Web, API, Mobile, ..." },
  { name: "ip_address", type: "string", sql: text("$.ipAddress"), doc: "Client IP address" },
  {
    name: "country",
    type: "string",
    sql: either(text("$.country"), text("$.ipAddressLocation.country")),
    doc: "Country of the IP",
  },
  {
    name: "state",
    type: "string",
    sql: either(text("$.state"), text("$.ipAddressLocation.state")),
    doc: "State of the IP",
  },
  {
    name: "city",
    type: "string",
    sql: either(text("$.city"), text("$.ipAddressLocation.city")),
    doc: "City of the IP",
  },
  {
    name: "latitude",
    type: "double",
    sql: `coalesce(${number("$.latitude")}, ${number("$.ipAddressLocation.latitude")})`,
    doc: "Latitude of the IP",
  },
  {
    name: "longitude",
    type: "double",
    sql: `coalesce(${number("$.longitude")}, ${number("$.ipAddressLocation.longitude")})`,
    doc: "Longitude of the IP",
  },
  { name: "user_agent", type: "string", sql: text("$.userAgent"), doc: "User agent text" },
  {
    name: "browser",
    type: "string",
    sql: either(text("$.browser"), text("$.userAgentClientInfo.browser.family")),
    doc: "Browser family",
  },
  {
    name: "browser_version",
    type: "string",
    sql: version("$.userAgentClientInfo.browser.version"),
    doc: "Browser version",
  },
  {
    name: "os",
    type: "string",
    sql: either(text("$.os"), text("$.userAgentClientInfo.os.family")),
    doc: "Operating system family",
  },
  {
    name: "os_version",
    type: "string",
    sql: version("$.userAgentClientInfo.os.version"),
    doc: "Operating system version",
  },
  {
    name: "device",
    type: "string",
    sql: either(text("$.device"), text("$.userAgentClientInfo.device.family")),
    doc: "Device family",
  },
  {
    name: "data",
    type: "string",
    sql: "json_format(json_extract(line, '$.data'))",
    doc: "The event's data object as JSON text",
  },
  { name: "raw", type: "string", sql: "line", doc: "The exact stored line: nothing is lost by typing" },
  {
    name: "source_object",
    type: "string",
    sql: "source_path",
    doc: "The raw object the line was merged from",
  },
  {
    name: "source_time",
    type: "timestamp",
    sql: "source_time",
    doc: "That object's modification time (UTC): the merge watermark",
  },
];

/** Iceberg partition spec: by day of event_time, then stream. */
export const CURATED_PARTITIONING: readonly {
  readonly column: string;
  readonly transform: "day" | "identity";
}[] = [
  { column: "event_time", transform: "day" },
  { column: "stream", transform: "identity" },
];

/** Iceberg table properties (the Glue table's; Athena's Iceberg default is ZSTD Parquet as well). */
export const CURATED_PROPERTIES: Readonly<Record<string, string>> = {
  "write.format.default": "parquet",
  "write.parquet.compression-codec": "zstd",
  "format-version": "2",
};

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

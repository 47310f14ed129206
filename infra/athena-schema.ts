/**
 * The Athena view of the lake: every event field of monitor-api.md declared, the `events_lines` table
 * over the exact stored lines, the `events_dedup` view that extracts every field from those lines with
 * JSON functions, and (saved-queries.ts) the queries a security team asks first. One definition feeds
 * the Glue tables, the view's Presto column types and the test that compares them with the lake the
 * CLI writes.
 *
 * Why the view reads the exact line and not the `events` table: Athena reads `events` with the OpenX
 * JSON SerDe, which lower-cases every key (nested ones too, so `data` loses its key case and an object
 * holding two keys that differ only in case fails the query) and fails a query on `""` in a double
 * column; Trino's reader of the same table does neither. json_extract_scalar and json_extract behave
 * alike in both engines, so every result of the view and of the saved queries is the same on each.
 */

import { UNTIMED_DAY } from "../lambda/core/event-time";

/**
 * `number`: a number DocuSign may also send as text (`"12.5"`, `""`, `"n/a"`): a string in the `events`
 * table (so no reader fails on the text) and a double in the view (`try_cast`: NULL when not a number).
 */
export type FieldType = "string" | "number" | "boolean" | readonly Field[];
export interface Field {
  /**
   * The JSON key as DocuSign sends it: the view matches it exactly; column names are its lower case
   * (Glue lower-cases them; OpenX matches `events` columns case-insensitively).
   */
  readonly name: string;
  readonly type: FieldType;
}

const version: Field[] = [
  { name: "major", type: "string" },
  { name: "minor", type: "string" },
  { name: "patch", type: "string" },
];

/** Every field of a Monitor event, both API generations. */
export const EVENT_FIELDS: readonly Field[] = [
  { name: "timestamp", type: "string" },
  { name: "eventId", type: "string" },
  { name: "site", type: "string" },
  { name: "accountId", type: "string" },
  { name: "organizationId", type: "string" },
  { name: "userId", type: "string" },
  { name: "integratorKey", type: "string" },
  { name: "userAgent", type: "string" },
  {
    name: "userAgentClientInfo",
    type: [
      {
        name: "browser",
        type: [
          { name: "family", type: "string" },
          { name: "version", type: version },
        ],
      },
      {
        name: "device",
        type: [
          { name: "family", type: "string" },
          { name: "brand", type: "string" },
          { name: "model", type: "string" },
        ],
      },
      {
        name: "os",
        type: [
          { name: "family", type: "string" },
          { name: "version", type: version },
        ],
      },
    ],
  },
  { name: "ipAddress", type: "string" },
  {
    name: "ipAddressLocation",
    type: [
      { name: "latitude", type: "number" },
      { name: "longitude", type: "number" },
      { name: "country", type: "string" },
      { name: "state", type: "string" },
      { name: "city", type: "string" },
    ],
  },
  { name: "object", type: "string" },
  { name: "action", type: "string" },
  { name: "property", type: "string" },
  { name: "field", type: "string" },
  { name: "result", type: "string" },
  { name: "source", type: "string" },
  { name: "data", type: "string" },
  // Organization stream (current generation).
  { name: "isUserMemberOfDomain", type: "boolean" },
  { name: "referencedUserId", type: "string" },
  { name: "referencedUserIsMemberOfDomain", type: "boolean" },
  { name: "affectedUserId", type: "string" },
  { name: "affectedUserIsMemberOfDomain", type: "boolean" },
  { name: "proxyStatus", type: "string" },
  { name: "proxyType", type: "string" },
  { name: "proxyLevel", type: "string" },
  { name: "latitude", type: "number" },
  { name: "longitude", type: "number" },
  { name: "city", type: "string" },
  { name: "state", type: "string" },
  { name: "country", type: "string" },
  { name: "device", type: "string" },
  { name: "browser", type: "string" },
  { name: "os", type: "string" },
  // Listed by AWS Glue's DocuSign Monitor connector.
  { name: "application", type: "string" },
  { name: "environment", type: "string" },
  { name: "traceToken", type: "string" },
  { name: "customerVisible", type: "boolean" },
  { name: "version", type: "string" },
];

/** Hive/Glue type text of an `events` column, e.g. `struct<family:string,version:struct<major:string>>`. */
export function hiveType(type: FieldType): string {
  if (type === "number") return "string";
  if (typeof type === "string") return type;
  return `struct<${type.map((f) => `${f.name.toLowerCase()}:${hiveType(f.type)}`).join(",")}>`;
}

/** Hive/Glue type text of a view column: numbers are doubles there. */
export function viewHiveType(type: FieldType): string {
  if (type === "number") return "double";
  if (typeof type === "string") return type;
  return `struct<${type.map((f) => `${f.name.toLowerCase()}:${viewHiveType(f.type)}`).join(",")}>`;
}

/** Presto/Trino type text for a view's column list, e.g. `row(family varchar)`. */
export function prestoType(type: FieldType): string {
  if (type === "string") return "varchar";
  if (type === "number") return "double";
  if (type === "boolean") return type;
  return `row(${type.map((f) => `${f.name.toLowerCase()} ${prestoType(f.type)}`).join(",")})`;
}

/** Columns of the dedup view (Presto type for the view, Hive type for Glue): every table column, `dt`, `event_time`. */
export const VIEW_COLUMNS: readonly { name: string; type: string; hiveType: string }[] = [
  ...EVENT_FIELDS.map((f) => ({
    name: f.name.toLowerCase(),
    type: prestoType(f.type),
    hiveType: viewHiveType(f.type),
  })),
  { name: "dt", type: "varchar", hiveType: "string" },
  { name: "event_time", type: "timestamp(3) with time zone", hiveType: "timestamp" },
  { name: "stream", type: "varchar", hiveType: "string" },
];

/**
 * `events_lines`: the stored lines as they are, one string column `line` per line, partitioned and
 * projected on `dt` like `events`. Read as text by Hive's LazySimpleSerDe (Athena's default for
 * delimited text) with a field delimiter that valid JSON text cannot contain (U+0001: control
 * characters are escaped inside JSON strings and are not JSON whitespace) and no escape character, so
 * the whole line is the one field. Gzip is recognised by the `.gz` extension, by Athena and Trino alike.
 * A fixed contract: the curated Iceberg table reads raw rows through it.
 */
export const EVENTS_LINES = {
  table: "events_lines",
  column: "line",
  serializationLibrary: "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
  inputFormat: "org.apache.hadoop.mapred.TextInputFormat",
  outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
  serdeParameters: { "field.delim": "\u0001", "serialization.format": "\u0001" },
} as const;

/**
 * `events_lines_untimed`: the stored lines of the one day `events_lines` never reads, UNTIMED_DAY
 * (1970-01-01, lambda/core/event-time.ts), where every event without a usable timestamp is filed.
 * The same columns, reader and location as `events_lines`, with a projection of that one day (an
 * enum of one value): no table has to list the days from 1970 on. `events_dedup` and the curated
 * merge read both (rawLinesSql; curated-sql.ts), so every stored event reaches them.
 */
export const EVENTS_UNTIMED_LINES = { table: "events_lines_untimed", day: UNTIMED_DAY } as const;

/**
 * Every stored line with its `dt` and object (`source_path`): `events_lines` and
 * `events_lines_untimed`. A filter on `dt` reaches each table's projection, so only its days are listed.
 */
export function rawLinesSql(database: string): string {
  const from = (table: string) =>
    `SELECT "line", "dt", "$path" AS "source_path" FROM "${database}"."${table}"`;
  return `${from(EVENTS_LINES.table)} UNION ALL ${from(EVENTS_UNTIMED_LINES.table)}`;
}

/** The stream id in an object's name (`<stream>-<chunk>-<part>.json.gz`, lambda/core/object-key.ts). */
export const STREAM_FROM_PATH = `regexp_extract("source_path", '/([A-Za-z0-9][A-Za-z0-9_.-]{0,63})-[0-9a-f]{16}-[0-9]+\\.json\\.gz$', 1)`;

/**
 * The SQL that reads one field out of the exact line `"line"`, matching its JSON key exactly (path
 * `$.<key>...`): strings with json_extract_scalar, numbers and booleans through try_cast (NULL when
 * the text is not one), `data` as its JSON text with its keys as sent, objects as rows built from
 * their fields (NULL when the value is absent or not an object).
 */
export function fieldSql(field: Field, parent = "$"): string {
  const path = `${parent}.${field.name}`;
  if (field.name === "data" && parent === "$") return `json_format(json_extract("line", '${path}'))`;
  if (field.type === "string") return `json_extract_scalar("line", '${path}')`;
  if (field.type === "number") return `try_cast(json_extract_scalar("line", '${path}') AS double)`;
  if (field.type === "boolean") return `try_cast(json_extract_scalar("line", '${path}') AS boolean)`;
  const members = field.type.map((f) => fieldSql(f, path)).join(", ");
  return (
    `CASE WHEN json_format(json_extract("line", '${path}')) LIKE '{%' ` +
    `THEN CAST(ROW(${members}) AS ${prestoType(field.type)}) END`
  );
}

/**
 * What makes two stored lines one event in `events_dedup`: its `eventId`, or for an event without one
 * (absent or empty) the SHA-256 of its exact line. The same identity as the curated table's key
 * (`line_sha256`) and the ingester's window (exact text): a line stored twice is one event whatever
 * it carries, and two id-less events that differ in any byte are two.
 */
const EVENT_IDENTITY = `coalesce(nullif("eventid", ''), lower(to_hex(sha256(to_utf8("line")))))`;

/**
 * One row per event and stream: per `eventId` within a stream (the first stored), per exact line for an
 * event without an `eventId` (EVENT_IDENTITY), every field read from the exact line (fieldSql), with `event_time` parsed from
 * DocuSign's ISO timestamp (seven fractional digits are more than from_iso8601_timestamp takes, so it
 * is cut to milliseconds) and `stream`, the stream (organization) whose object holds it, read from the
 * object's name: several organizations share one table, and a query picks one with `WHERE stream = '<id>'`.
 * It reads `events_lines` and `events_lines_untimed` (rawLinesSql), so untimed events are in it too,
 * under `dt` 1970-01-01.
 *
 * Within a stream, not across streams: a stream is one organization's (or account's) feed, and the
 * lake's copy of it must be whole whatever another stream holds, so that `WHERE stream = '<id>'` gives
 * that stream's every event. An eventId repeated by another stream (a second stream configured over
 * the same organization, or a foreign feed reusing ids) is that stream's row, told apart by `stream`.
 * The ingester's recent-id window and the curated table's key (stream, eventId) are per stream too.
 *
 * The window is partitioned by `dt`, `stream` and the event's identity, not by the identity alone: a filter on `dt` can
 * only pass a window whose partition includes `dt`, and without it every query on the view reads the
 * whole lake. It changes no result, since every copy of one event has the same `dt`: the day is a
 * function of the event's text (lambda/core/event-time.ts, eventDay), never of when it was ingested.
 * (Lakes written before that rule filed an untimed event under its ingestion day; such an event that
 * DocuSign repeated on another day appears once per day.) Ties go to the first object name, then to
 * the line's text, so that the same lake always gives the same rows.
 */
export function dedupViewSql(database: string): string {
  const columns = EVENT_FIELDS.map((f) => `"${f.name.toLowerCase()}"`).join(", ");
  const extracted = EVENT_FIELDS.map((f) => `${fieldSql(f)} AS "${f.name.toLowerCase()}"`).join(", ");
  return (
    `SELECT ${columns}, "dt", ` +
    `try(from_iso8601_timestamp(regexp_replace("timestamp", '(\\.\\d{3})\\d+', '$1'))) AS "event_time", ` +
    `"stream" ` +
    `FROM (SELECT *, ` +
    `row_number() OVER (PARTITION BY "dt", "stream", ${EVENT_IDENTITY} ORDER BY "timestamp", "source_path", "line") AS "rn" ` +
    `FROM (SELECT ${extracted}, "line", "dt", "source_path", ${STREAM_FROM_PATH} AS "stream" ` +
    `FROM (${rawLinesSql(database)}))) WHERE "rn" = 1`
  );
}

export { SAVED_QUERIES, type SavedQuery } from "./saved-queries";

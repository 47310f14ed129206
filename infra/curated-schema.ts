/**
 * The curated table `events_curated`: each stored event once, typed, in Iceberg (Parquet, ZSTD),
 * kept by Athena. One definition of its columns feeds the Glue table of the template (its Iceberg
 * schema and partition spec), the curation state machine's SQL (curated-sql.ts), and the Trino tests
 * that run that SQL.
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

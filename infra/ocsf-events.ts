/**
 * The `ocsf_events` view: one row per row of `events_curated`, with what the OCSF views need read
 * from the event's exact line (`raw`) by JSON functions, which behave alike in Athena and Trino, and
 * the OCSF class and activity of `ocsf-rules.ts`. It reads only `event_id`, `stream`, `event_time`,
 * `dt` and `raw` of the curated table, so both DocuSign stream generations (nested
 * `ipAddressLocation` or flattened `latitude`...) and any odd type map alike.
 */
import { typeUidSql } from "./ocsf-rules";

/** OCSF strings are at most 65,535 characters: a longer DocuSign text is cut (the raw line keeps it). */
export const MAX_TEXT = 65_535;

const text = (path: string): string =>
  `nullif(substr(json_extract_scalar(raw, '${path}'), 1, ${MAX_TEXT}), '')`;
const either = (top: string, nested: string): string => `coalesce(${text(top)}, ${text(nested)})`;
const number = (path: string): string => `try_cast(json_extract_scalar(raw, '${path}') AS double)`;
/** An IP address only when it is one (OCSF's `ip_t` pattern), else NULL (it stays in `unmapped`). */
const ip = (path: string): string =>
  `CASE WHEN try(CAST(json_extract_scalar(raw, '${path}') AS ipaddress)) IS NOT NULL THEN json_extract_scalar(raw, '${path}') END`;
/** A coordinate inside its range (NaN and infinities fail the comparison). */
const coordinate = (top: string, nested: string, limit: number): string =>
  `CASE WHEN abs(coalesce(${number(top)}, ${number(nested)})) <= ${limit} THEN coalesce(${number(top)}, ${number(nested)}) END`;

/** Extraction columns (name, SQL over the curated row). */
const EXTRACTED: readonly [string, string][] = [
  ["obj", text("$.object")],
  ["action", text("$.action")],
  ["property", text("$.property")],
  ["result", text("$.result")],
  ["user_id", text("$.userId")],
  ["account_id", text("$.accountId")],
  ["organization_id", text("$.organizationId")],
  ["original_time", text("$.timestamp")],
  [
    "target_user_id",
    `coalesce(${text("$.affectedUserId")}, ${text("$.data.AffectedUserId")}, ${text("$.referencedUserId")})`,
  ],
  ["member_user_id", `coalesce(${text("$.data.UserId")}, ${text("$.data.AffectedUserId")})`],
  ["ip", ip("$.ipAddress")],
  ["user_agent", text("$.userAgent")],
  ["latitude", coordinate("$.latitude", "$.ipAddressLocation.latitude", 90)],
  ["longitude", coordinate("$.longitude", "$.ipAddressLocation.longitude", 180)],
  ["country", either("$.country", "$.ipAddressLocation.country")],
  ["region", either("$.state", "$.ipAddressLocation.state")],
  ["city", either("$.city", "$.ipAddressLocation.city")],
  ["envelope_id", text("$.data.EnvelopeId")],
  ["template_id", text("$.data.TemplateId")],
  ["group_id", text("$.data.GroupId")],
  ["group_name", text("$.data.GroupName")],
  ["settings_key", text("$.data.SettingsKey")],
  ["new_profile_id", text("$.data.NewPermissionProfileId")],
  ["failure_reason", text("$.data.FailureReason")],
  ["alert_severity", text("$.data.Severity")],
  ["alert_count", `try_cast(json_extract_scalar(raw, '$.data.Count') AS integer)`],
  ["alert_event_ids", `try(CAST(json_extract(raw, '$.data.EventIds') AS array(varchar)))`],
  ["signer_ip", ip("$.data.SignerIp")],
  ["signer_user_id", text("$.data.SignerUserId")],
  // Every top-level key with its value as text (a scalar as itself, an object or array as JSON).
  [
    "fields",
    `map_filter(transform_values(try(CAST(json_parse(raw) AS map(varchar, json))), (k, v) -> coalesce(json_extract_scalar(v, '$'), json_format(v))), (k, v) -> v IS NOT NULL AND v <> '' AND v <> 'null')`,
  ],
];

/**
 * `metadata.uid`: DocuSign's eventId, or for an event without one `sha256:<hex of its line>`
 * (the identity `events_curated` gives it), so every record leads back to its raw line.
 */
const UID = `coalesce(nullif(event_id, ''), 'sha256:' || lower(to_hex(sha256(to_utf8(raw)))))`;
/** Epoch milliseconds of the event's time; an untimed event gets midnight (UTC) of its `dt`. */
const TIME = `coalesce(date_diff('millisecond', TIMESTAMP '1970-01-01 00:00:00', CAST(event_time AS timestamp(3))), date_diff('millisecond', TIMESTAMP '1970-01-01 00:00:00', CAST(date(dt) AS timestamp(3))))`;

/** The view's SQL over `<database>.events_curated`. */
export function ocsfEventsSql(database: string): string {
  const extracted = EXTRACTED.map(([name, sql]) => `${sql} AS "${name}"`).join(", ");
  return (
    `SELECT *, CAST(type_uid / 100 AS integer) AS "class_uid", CAST(type_uid % 100 AS integer) AS "activity_id" FROM (` +
    `SELECT *, ${typeUidSql()} AS "type_uid" FROM (` +
    `SELECT *, ${UID} AS "uid", ${TIME} AS "time", ` +
    `lower("action") AS "act", coalesce("target_user_id", "user_id") AS "self_user_id" FROM (` +
    `SELECT "event_id", "stream", "event_time", "dt", "raw", ${extracted} ` +
    `FROM "${database}"."events_curated")))`
  );
}

/**
 * The columns every OCSF view shares (OCSF 1.1.0's base attributes with the `cloud` profile) and
 * the objects several classes use: `src_endpoint` (IP and location, coordinates longitude first as
 * in GeoJSON), `http_request.user_agent`, the acting user. Columns are SQL over `ocsf_events`.
 */
import { ACTIVITIES, OCSF_CLASSES, type OcsfClassName } from "./ocsf-rules";
import { type Field, lit, rowOf } from "./ocsf-types";

export const OCSF_VERSION = "1.1.0";
/** The profiles applied (Security Lake validates custom sources with `cloud` and `datetime`). */
export const PROFILES = ["cloud"] as const;

const str = (sql: string): Field => ({ type: "varchar", sql });
const int = (sql: string): Field => ({ type: "integer", sql });

function caseOf(column: string, values: Readonly<Record<number, string>>, otherwise: string): string {
  const arms = Object.entries(values).map(([k, v]) => `WHEN ${k} THEN ${lit(v)}`);
  return `CASE ${column} ${arms.join(" ")} ELSE ${otherwise} END`;
}

/** The top-level keys of a Monitor event that a class puts into a slot, each with when it does. */
export type Consumed = readonly [key: string, when: string][];

/** Keys the base columns always take (when they have a value at all). */
export const BASE_CONSUMED: Consumed = [
  ["eventId", "true"],
  ["timestamp", "true"],
  ["object", "true"],
  ["action", "true"],
  ["result", "true"],
  ["accountId", "true"],
  ["organizationId", "true"],
];

/** Keys `src_endpoint` and `http_request` take. */
export const ENDPOINT_CONSUMED: Consumed = [
  ["ipAddress", "ip IS NOT NULL"],
  ["ipAddressLocation", "ip IS NOT NULL"],
  ["latitude", "ip IS NOT NULL"],
  ["longitude", "ip IS NOT NULL"],
  ["country", "ip IS NOT NULL"],
  ["state", "ip IS NOT NULL"],
  ["city", "ip IS NOT NULL"],
  ["userAgent", "user_agent IS NOT NULL"],
];

/** `unmapped`: every top-level key of the event whose value has no slot in this class, as text. */
export function unmapped(consumed: Consumed): Field {
  const taken = consumed.map(([key, when]) =>
    when === "true" ? `k = ${lit(key)}` : `(k = ${lit(key)} AND ${when})`,
  );
  return { type: { map: "varchar" }, sql: `map_filter(fields, (k, v) -> NOT (${taken.join(" OR ")}))` };
}

const status = `CASE result WHEN 'Success' THEN 1 WHEN 'Failed' THEN 2 ELSE CASE WHEN result IS NULL THEN 0 ELSE 99 END END`;
const alertSeverity = `CASE lower(alert_severity) WHEN 'low' THEN 2 WHEN 'medium' THEN 3 WHEN 'high' THEN 4 WHEN 'critical' THEN 5 ELSE 0 END`;

const SEVERITIES = {
  0: "Unknown",
  1: "Informational",
  2: "Low",
  3: "Medium",
  4: "High",
  5: "Critical",
} as const;

/** The base attributes of a record of `name`, in OCSF's order of importance. */
export function baseColumns(name: OcsfClassName): Record<string, Field> {
  const c = OCSF_CLASSES[name];
  const finding = name === "detection_finding";
  // Activity 99 (Other) is named by DocuSign's own action, as OCSF asks.
  const named = Object.fromEntries(Object.entries(ACTIVITIES[name]).filter(([id]) => id !== "99"));
  const activityName = caseOf("activity_id", named, "coalesce(action, 'Other')");
  const severityId = finding ? alertSeverity : "1";
  return {
    activity_id: int("activity_id"),
    activity_name: str(activityName),
    category_uid: int(String(c.categoryUid)),
    category_name: str(lit(c.category)),
    class_uid: int(String(c.uid)),
    class_name: str(lit(c.caption)),
    type_uid: int("type_uid"),
    type_name: str(`${lit(`${c.caption}: `)} || ${caseOf("activity_id", ACTIVITIES[name], "'Other'")}`),
    time: { type: "bigint", sql: "time" },
    severity_id: int(severityId),
    severity: str(caseOf(severityId, SEVERITIES, "'Unknown'")),
    status_id: int(finding ? "1" : status),
    status: str(
      finding
        ? "'New'"
        : caseOf(status, { 0: "Unknown", 1: "Success", 2: "Failure", 99: "Other" }, "'Other'"),
    ),
    status_code: str(finding ? "CAST(NULL AS varchar)" : "result"),
    metadata: rowOf({
      version: str(lit(OCSF_VERSION)),
      product: rowOf({ vendor_name: str("'DocuSign'"), name: str("'Monitor'") }),
      uid: str("uid"),
      event_code: str(`nullif(concat_ws('/', obj, action), '')`),
      original_time: str("original_time"),
      log_name: str("stream"),
      tenant_uid: str("organization_id"),
      profiles: { type: { array: "varchar" }, sql: `ARRAY[${PROFILES.map(lit).join(", ")}]` },
    }),
    cloud: rowOf({
      provider: str("'DocuSign'"),
      account: rowOf({ uid: str("account_id") }, "account_id IS NOT NULL"),
      org: rowOf({ uid: str("organization_id") }, "organization_id IS NOT NULL"),
    }),
  };
}

/** `location` of the event's IP, or NULL when DocuSign sent none of its parts. */
export function location(): Field {
  return rowOf(
    {
      coordinates: {
        type: { array: "double" },
        sql: "CASE WHEN longitude IS NOT NULL AND latitude IS NOT NULL THEN ARRAY[longitude, latitude] END",
      },
      country: str("country"),
      region: str("region"),
      city: str("city"),
    },
    "(longitude IS NOT NULL AND latitude IS NOT NULL) OR country IS NOT NULL OR region IS NOT NULL OR city IS NOT NULL",
  );
}

/** `src_endpoint` and `http_request`, for the classes that have them. */
export function endpointColumns(): Record<string, Field> {
  return {
    src_endpoint: rowOf({ ip: str("ip"), location: location() }, "ip IS NOT NULL"),
    http_request: rowOf({ user_agent: str("user_agent") }, "user_agent IS NOT NULL"),
  };
}

/** A user object with only its uid, NULL without one. */
export function userOf(uid: string): Field {
  return rowOf({ uid: str(uid) }, `${uid} IS NOT NULL`);
}

/** `actor.user.uid`: DocuSign's acting user. */
export function actor(): Field {
  return rowOf({ user: userOf("user_id") }, "user_id IS NOT NULL");
}

export { int, str };

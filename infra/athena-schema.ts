/**
 * The Athena view of the lake: every event field of monitor-api.md declared (nested ones as structs,
 * `data` as a string that the OpenX SerDe fills with the object's JSON text), the `events_dedup` view,
 * and the saved queries a security team asks first. One definition feeds the Glue table, the view's
 * Presto column types and the test that compares them with the lake the CLI writes.
 */

export type FieldType = "string" | "double" | "boolean" | readonly Field[];
export interface Field {
  /** The JSON key as DocuSign sends it; Glue lower-cases column names and OpenX matches case-insensitively. */
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
      { name: "latitude", type: "double" },
      { name: "longitude", type: "double" },
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
  { name: "latitude", type: "double" },
  { name: "longitude", type: "double" },
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

/** Hive/Glue type text, e.g. `struct<family:string,version:struct<major:string>>`. */
export function hiveType(type: FieldType): string {
  if (typeof type === "string") return type;
  return `struct<${type.map((f) => `${f.name.toLowerCase()}:${hiveType(f.type)}`).join(",")}>`;
}

/** Presto/Trino type text for a view's column list, e.g. `row(family varchar)`. */
export function prestoType(type: FieldType): string {
  if (type === "string") return "varchar";
  if (type === "double" || type === "boolean") return type;
  return `row(${type.map((f) => `${f.name.toLowerCase()} ${prestoType(f.type)}`).join(",")})`;
}

/** Columns of the dedup view (Presto type for the view, Hive type for Glue): every table column, `dt`, `event_time`. */
export const VIEW_COLUMNS: readonly { name: string; type: string; hiveType: string }[] = [
  ...EVENT_FIELDS.map((f) => ({
    name: f.name.toLowerCase(),
    type: prestoType(f.type),
    hiveType: hiveType(f.type),
  })),
  { name: "dt", type: "varchar", hiveType: "string" },
  { name: "event_time", type: "timestamp(3) with time zone", hiveType: "timestamp" },
  { name: "stream", type: "varchar", hiveType: "string" },
];

/** The stream id in an object's name (`<stream>-<chunk>-<part>.json.gz`, lambda/core/object-key.ts). */
export const STREAM_FROM_PATH = `regexp_extract("source_path", '/([A-Za-z0-9][A-Za-z0-9_.-]{0,63})-[0-9a-f]{16}-[0-9]+\\.json\\.gz$', 1)`;

/**
 * One row per `eventId` (the first stored), with `event_time` parsed from DocuSign's ISO timestamp
 * (seven fractional digits are more than from_iso8601_timestamp takes, so it is cut to milliseconds)
 * and `stream`, the stream (organization) whose object holds it, read from the object's name: several
 * organizations share one table, and a query picks one with `WHERE stream = '<id>'`.
 *
 * The window is partitioned by `dt, eventid`, not `eventid` alone: a filter on `dt` can only pass a
 * window whose partition includes `dt`, and without it every query on the view reads the whole lake.
 * It changes no result, since copies of one event share `dt` (the day of the event's own timestamp).
 * The one exception: an event without a parseable timestamp that DocuSign repeats on a later
 * ingestion day is filed under both days and appears once in each.
 */
export function dedupViewSql(database: string): string {
  const columns = EVENT_FIELDS.map((f) => `"${f.name.toLowerCase()}"`).join(", ");
  return (
    `SELECT ${columns}, "dt", ` +
    `try(from_iso8601_timestamp(regexp_replace("timestamp", '(\\.\\d{3})\\d+', '$1'))) AS "event_time", ` +
    `${STREAM_FROM_PATH} AS "stream" ` +
    `FROM (SELECT *, "$path" AS "source_path", ` +
    `row_number() OVER (PARTITION BY "dt", "eventid" ORDER BY "timestamp", "$path") AS "rn" ` +
    `FROM "${database}"."events") WHERE "rn" = 1 OR coalesce("eventid", '') = ''`
  );
}

export interface SavedQuery {
  readonly name: string;
  readonly description: string;
  readonly sql: (database: string) => string;
}

// Only exact codes confirmed by peers' content (monitor-api.md) are matched exactly; login events
// are matched by pattern because their exact strings are not confirmed.
export const SAVED_QUERIES: readonly SavedQuery[] = [
  {
    name: "failed-logins-by-user-and-ip",
    description:
      "Failed sign-ins over the last 7 days by user and IP (actions matched by pattern: exact codes unconfirmed).",
    sql: (db) =>
      `SELECT userid, ipaddress, ipaddresslocation.country AS country, count(*) AS failures, max(event_time) AS last_seen
FROM "${db}"."events_dedup"
WHERE dt >= date_format(current_date - interval '7' day, '%Y-%m-%d')
  AND result = 'Failed' AND (lower(action) LIKE '%login%' OR lower(action) LIKE '%signin%' OR lower(object) = 'login')
GROUP BY 1, 2, 3 ORDER BY failures DESC LIMIT 100;`,
  },
  {
    name: "one-user-activity",
    description: "Everything one user did in the last 30 days: replace the user id.",
    sql: (db) =>
      `SELECT event_time, object, action, property, result, source, ipaddress, useragent, data
FROM "${db}"."events_dedup"
WHERE dt >= date_format(current_date - interval '30' day, '%Y-%m-%d')
  AND (userid = '00000000-0000-0000-0000-000000000000' OR referenceduserid = '00000000-0000-0000-0000-000000000000')
ORDER BY event_time DESC;`,
  },
  {
    name: "permission-and-admin-changes",
    description:
      "Access-control changes: users added, permission sets, settings, Connect and organization changes.",
    sql: (db) =>
      `SELECT event_time, userid, object, action, property, field, result, data
FROM "${db}"."events_dedup"
WHERE dt >= date_format(current_date - interval '30' day, '%Y-%m-%d')
  AND (action = 'UserAdded'
    OR (object IN ('Account', 'Connect', 'User', 'PermissionSet', 'Organization', 'Group') AND (action LIKE '%Updated%' OR action LIKE '%Deleted%' OR action LIKE '%Added%' OR action LIKE '%Removed%')))
ORDER BY event_time DESC;`,
  },
  {
    name: "monitor-alerts",
    description: "DocuSign Monitor's own alerts with severity and the events that triggered them.",
    sql: (db) =>
      `SELECT event_time, action AS alert, json_extract_scalar(data, '$.Severity') AS severity,
  json_extract_scalar(data, '$.Count') AS count, json_extract(data, '$.EventIds') AS event_ids, userid, ipaddress
FROM "${db}"."events_dedup"
WHERE dt >= date_format(current_date - interval '30' day, '%Y-%m-%d') AND object = 'Alert'
ORDER BY event_time DESC;`,
  },
  {
    name: "sign-ins-from-new-countries",
    description:
      "Sign-ins in the last day from a country the user had not signed in from in the 30 days before.",
    sql: (db) =>
      `WITH logins AS (
  SELECT userid, coalesce(nullif(country, ''), ipaddresslocation.country) AS country, event_time, ipaddress, dt
  FROM "${db}"."events_dedup"
  WHERE dt >= date_format(current_date - interval '31' day, '%Y-%m-%d') AND lower(action) LIKE '%login%' AND result = 'Success'
)
SELECT recent.userid, recent.country, min(recent.event_time) AS first_seen, arbitrary(recent.ipaddress) AS ipaddress
FROM logins recent
WHERE recent.dt >= date_format(current_date - interval '1' day, '%Y-%m-%d')
  AND NOT EXISTS (SELECT 1 FROM logins earlier WHERE earlier.userid = recent.userid AND earlier.country = recent.country
                  AND earlier.dt < date_format(current_date - interval '1' day, '%Y-%m-%d'))
GROUP BY 1, 2 ORDER BY first_seen DESC;`,
  },
  {
    name: "api-integration-key-activity",
    description: "Activity per integration key over the last 7 days (web UI activity excluded).",
    sql: (db) =>
      `SELECT integratorkey, count(*) AS events, count(DISTINCT userid) AS users, count(DISTINCT ipaddress) AS ips,
  min(event_time) AS first_seen, max(event_time) AS last_seen
FROM "${db}"."events_dedup"
WHERE dt >= date_format(current_date - interval '7' day, '%Y-%m-%d')
  AND integratorkey <> '' AND integratorkey <> '##DOCUSIGN_INTERNAL_NOT_USED##'
GROUP BY 1 ORDER BY events DESC;`,
  },
  {
    name: "envelope-download-volume-by-user",
    description:
      "Users who downloaded 20 or more envelopes in one day, last 14 days: edit the threshold to your normal volume (action matched by pattern: exact code unconfirmed).",
    sql: (db) =>
      `SELECT dt, userid, count(*) AS downloads, count(DISTINCT ipaddress) AS ips
FROM "${db}"."events_dedup"
WHERE dt >= date_format(current_date - interval '14' day, '%Y-%m-%d')
  AND object = 'Envelope' AND lower(action) LIKE '%download%'
GROUP BY 1, 2 HAVING count(*) >= 20 ORDER BY downloads DESC LIMIT 100;`,
  },
  {
    name: "event-volume-by-hour",
    description: "Events per hour and object over the last 2 days.",
    sql: (db) =>
      `SELECT date_trunc('hour', event_time) AS hour, object, count(*) AS events
FROM "${db}"."events_dedup"
WHERE dt >= date_format(current_date - interval '2' day, '%Y-%m-%d')
GROUP BY 1, 2 ORDER BY 1 DESC, 3 DESC;`,
  },
];

/**
 * The saved queries a security team asks first. They read the curated Iceberg table `events_curated`
 * (curated-schema.ts: each event once, typed, columnar), filtered on `dt`, the day the raw lake keeps
 * the event under, so that they return what they returned over the raw view, which Iceberg's
 * per-file column bounds turn into files skipped. `one-user-activity-evidence` reads the raw view
 * `events_dedup` instead: the evidence, straight from the stored lines, with no merge in between.
 */

import { UNTIMED_DAY } from "../lambda/core/event-time";

export interface SavedQuery {
  readonly name: string;
  readonly description: string;
  readonly sql: (database: string) => string;
}

/**
 * The objects whose every event is an administration change: monitor-api.md's access-control objects
 * (Account, Connect, User, PermissionSet; Sumo Logic's list) plus Group, Organization and
 * IntegratorKey. Their action strings are generic (`Created`, `Updated`, `Deleted`) or unconfirmed
 * (`SecretAdded`, `DomainClaimed`), so no action list is hard-coded for them.
 */
export const ADMIN_OBJECTS = [
  "Account",
  "PermissionSet",
  "Group",
  "Connect",
  "IntegratorKey",
  "Organization",
] as const;

/** User events that change a user (not a user's own sign-in, sign-out or password activity). */
export const USER_CHANGE = "(Created|Updated|Deleted|Added|Removed|Closed)";

/** Who acted or was acted on: both surfaces, their own column names. */
function oneUserActivity(
  table: string,
  [user, referenced, ip, agent]: readonly [string, string, string, string],
): (db: string) => string {
  const zero = "00000000-0000-0000-0000-000000000000";
  return (db) =>
    `SELECT event_time, object, action, property, result, source, ${ip}, ${agent}, data
FROM "${db}"."${table}"
WHERE dt >= date_format(current_date - interval '30' day, '%Y-%m-%d')
  AND (${user} = '${zero}' OR ${referenced} = '${zero}')
ORDER BY event_time DESC;`;
}

const LAST_DAY = "date_format(current_date - interval '1' day, '%Y-%m-%d')";

// Only exact codes confirmed by peers' content (monitor-api.md) are matched exactly; login events
// are matched by pattern because their exact strings are not confirmed.
export const SAVED_QUERIES: readonly SavedQuery[] = [
  {
    name: "failed-logins-by-user-and-ip",
    description:
      "Failed sign-ins over the last 7 days by user and IP (actions matched by pattern: exact codes unconfirmed).",
    sql: (db) =>
      `SELECT user_id, ip_address, country, count(*) AS failures, max(event_time) AS last_seen
FROM "${db}"."events_curated"
WHERE dt >= date_format(current_date - interval '7' day, '%Y-%m-%d')
  AND result = 'Failed' AND (lower(action) LIKE '%login%' OR lower(action) LIKE '%signin%' OR lower(object) = 'login')
GROUP BY 1, 2, 3 ORDER BY failures DESC LIMIT 100;`,
  },
  {
    name: "one-user-activity",
    description: "Everything one user did in the last 30 days: replace the user id.",
    sql: oneUserActivity("events_curated", ["user_id", "referenced_user_id", "ip_address", "user_agent"]),
  },
  {
    name: "permission-and-admin-changes",
    description:
      "Administration changes, last 30 days: every Account, PermissionSet, Group, Connect, IntegratorKey and Organization event, and users created, changed, added, removed or closed.",
    sql: (db) =>
      `SELECT event_time, user_id, object, action, property, field, result, data
FROM "${db}"."events_curated"
WHERE dt >= date_format(current_date - interval '30' day, '%Y-%m-%d')
  AND (object IN (${ADMIN_OBJECTS.map((o) => `'${o}'`).join(", ")})
    OR (object = 'User' AND regexp_like(action, '${USER_CHANGE}')))
ORDER BY event_time DESC;`,
  },
  {
    name: "monitor-alerts",
    description: "DocuSign Monitor's own alerts with severity and the events that triggered them.",
    sql: (db) =>
      `SELECT event_time, action AS alert, json_extract_scalar(data, '$.Severity') AS severity,
  json_extract_scalar(data, '$.Count') AS count, json_extract(data, '$.EventIds') AS event_ids, user_id, ip_address
FROM "${db}"."events_curated"
WHERE dt >= date_format(current_date - interval '30' day, '%Y-%m-%d') AND object = 'Alert'
ORDER BY event_time DESC;`,
  },
  {
    name: "sign-ins-from-new-countries",
    description:
      "Sign-ins in the last day from a country the user had not signed in from in the 30 days before.",
    // One pass over the 31 days: per user and country, the sign-ins before the last day and in it.
    sql: (db) =>
      `SELECT user_id, country, min(CASE WHEN dt >= ${LAST_DAY} THEN event_time END) AS first_seen,
  arbitrary(CASE WHEN dt >= ${LAST_DAY} THEN ip_address END) AS ip_address
FROM (
  SELECT user_id, country, event_time, ip_address, dt
  FROM "${db}"."events_curated"
  WHERE dt >= date_format(current_date - interval '31' day, '%Y-%m-%d') AND lower(action) LIKE '%login%' AND result = 'Success'
)
GROUP BY 1, 2
HAVING count_if(dt >= ${LAST_DAY}) > 0 AND count_if(dt < ${LAST_DAY}) = 0
ORDER BY first_seen DESC;`,
  },
  {
    name: "api-integration-key-activity",
    description: "Activity per integration key over the last 7 days (web UI activity excluded).",
    sql: (db) =>
      `SELECT integrator_key, count(*) AS events, count(DISTINCT user_id) AS users, count(DISTINCT ip_address) AS ips,
  min(event_time) AS first_seen, max(event_time) AS last_seen
FROM "${db}"."events_curated"
WHERE dt >= date_format(current_date - interval '7' day, '%Y-%m-%d')
  AND integrator_key <> '' AND integrator_key <> '##DOCUSIGN_INTERNAL_NOT_USED##'
GROUP BY 1 ORDER BY events DESC;`,
  },
  {
    name: "envelope-download-volume-by-user",
    description:
      "Users who downloaded 20 or more envelopes in one day, last 14 days: edit the threshold to your normal volume (action matched by pattern: exact code unconfirmed).",
    sql: (db) =>
      `SELECT dt, user_id, count(*) AS downloads, count(DISTINCT ip_address) AS ips
FROM "${db}"."events_curated"
WHERE dt >= date_format(current_date - interval '14' day, '%Y-%m-%d')
  AND object = 'Envelope' AND lower(action) LIKE '%download%'
GROUP BY 1, 2 HAVING count(*) >= 20 ORDER BY downloads DESC LIMIT 100;`,
  },
  {
    name: "untimed-events",
    description:
      "Events without a usable timestamp (missing, unreadable, before 1970 or from 2100 on), each stream's, filed under dt 1970-01-01: the day windows of the other queries never include them.",
    sql: (db) =>
      `SELECT stream, eventid, "timestamp", object, action, result, userid, ipaddress, data
FROM "${db}"."events_dedup"
WHERE dt = '${UNTIMED_DAY}'
ORDER BY stream, eventid;`,
  },
  {
    name: "event-volume-by-hour",
    description: "Events per hour and object over the last 2 days.",
    sql: (db) =>
      `SELECT date_trunc('hour', event_time) AS hour, object, count(*) AS events
FROM "${db}"."events_curated"
WHERE dt >= date_format(current_date - interval '2' day, '%Y-%m-%d')
GROUP BY 1, 2 ORDER BY 1 DESC, 3 DESC;`,
  },
  {
    name: "one-user-activity-evidence",
    description:
      "Evidence: one-user-activity over the raw view events_dedup, read from the stored lines themselves (no merge in between): replace the user id.",
    sql: oneUserActivity("events_dedup", ["userid", "referenceduserid", "ipaddress", "useragent"]),
  },
];

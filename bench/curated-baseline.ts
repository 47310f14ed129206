import { ADMIN_OBJECTS, type SavedQuery, USER_CHANGE } from "../infra/saved-queries";

/**
 * The baseline of `npm run bench:curated`: the saved queries as they read the raw view `events_dedup`
 * before they moved to `events_curated` (infra/saved-queries.ts at main 63ff5ba), the same questions
 * over the gzipped NDJSON lines. Kept verbatim so the benchmark compares like with like.
 */

const LAST_DAY = "date_format(current_date - interval '1' day, '%Y-%m-%d')";

export const RAW_VIEW_QUERIES: readonly SavedQuery[] = [
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
      "Administration changes, last 30 days: every Account, PermissionSet, Group, Connect, IntegratorKey and Organization event, and users created, changed, added, removed or closed.",
    sql: (db) =>
      `SELECT event_time, userid, object, action, property, field, result, data
FROM "${db}"."events_dedup"
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
  json_extract_scalar(data, '$.Count') AS count, json_extract(data, '$.EventIds') AS event_ids, userid, ipaddress
FROM "${db}"."events_dedup"
WHERE dt >= date_format(current_date - interval '30' day, '%Y-%m-%d') AND object = 'Alert'
ORDER BY event_time DESC;`,
  },
  {
    name: "sign-ins-from-new-countries",
    description:
      "Sign-ins in the last day from a country the user had not signed in from in the 30 days before.",
    // One pass over the 31 days: per user and country, the sign-ins before the last day and in it.
    sql: (db) =>
      `SELECT userid, country, min(CASE WHEN dt >= ${LAST_DAY} THEN event_time END) AS first_seen,
  arbitrary(CASE WHEN dt >= ${LAST_DAY} THEN ipaddress END) AS ipaddress
FROM (
  SELECT userid, coalesce(nullif(country, ''), ipaddresslocation.country) AS country, event_time, ipaddress, dt
  FROM "${db}"."events_dedup"
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

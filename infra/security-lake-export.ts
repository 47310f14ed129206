/**
 * The Security Lake export as data: one custom source per OCSF class (Security Lake requires one
 * class per source and per Parquet object), and the statements the curation state machine runs
 * after each merge to write each new event once, as Parquet, into its source's partition
 *
 *   <source location>region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/
 *
 * mixed case exactly (a Hive-style partitioned writer would lower-case `accountId` and `eventDay`,
 * so the prefix is written out by the delivery step, lambda/security-lake/deliver.ts, never derived
 * from partition columns).
 */
import { OCSF_CLASSES, type OcsfClassName } from "./ocsf-rules";
import { OCSF_VIEWS, type OcsfView, ocsfEventsSql } from "./ocsf-schema";

/** The custom source name of a class: `<prefix>-<class uid>` (Security Lake: 1–64 of `[\w\-_:.]`). */
export function sourceName(prefix: string, name: OcsfClassName): string {
  const source = `${prefix}-${OCSF_CLASSES[name].uid}`;
  if (!/^[\w\-_:.]{1,64}$/.test(source)) {
    throw new Error(
      `Security Lake custom source name "${source}" is not 1-64 letters, digits, _ - : or .: choose a shorter sourcePrefix of those characters.`,
    );
  }
  return source;
}

/** Security Lake's `eventClasses` value of each class (CreateCustomLogSource). */
export const EVENT_CLASS_NAMES: Readonly<Record<OcsfClassName, string>> = {
  base_event: "BASE_EVENT",
  detection_finding: "DETECTION_FINDING",
  account_change: "ACCOUNT_CHANGE",
  authentication: "AUTHENTICATION",
  entity_management: "ENTITY_MANAGEMENT",
  user_access: "USER_ACCESS",
  group_management: "GROUP_MANAGEMENT",
  web_resources_activity: "WEB_RESOURCES_ACTIVITY",
};

/** The view of a class. */
export function viewOf(name: OcsfClassName): OcsfView {
  const view = OCSF_VIEWS.find((v) => v.class === name);
  if (!view) throw new Error(`no OCSF view for ${name}`);
  return view;
}

/**
 * Exactly once per event, incrementally. Security Lake reads every object under a source's
 * partitions, and a subscriber with data access is notified of each new object: an object written
 * twice, or a day rewritten whole, reaches every subscriber twice. So the export only appends, and
 * each event is claimed by one batch in `security_lake_exports` (Iceberg, one row per event: its
 * stream, dt and `metadata.uid`, class, batch, and whether its batch was delivered):
 *
 * 1. claim: a MERGE inserts every event of the merge window not claimed yet, with this run's batch
 *    (the execution name). Iceberg commits it atomically, so an event is in one batch only;
 * 2. pending: the (batch, class, day) units not delivered yet: this run's, and any an earlier run
 *    claimed but did not finish;
 * 3. per unit: UNLOAD the unit's events (its batch's rows of that class and day) to an empty staging
 *    prefix of its own (UNLOAD writes only to an empty location, so never to the partition itself),
 *    then deliver (lambda/security-lake/deliver.ts): delete what an earlier attempt of the same batch
 *    left in the partition, copy each staged object there as `<batch>-<name>`; then mark the unit
 *    delivered. A failure before the mark repeats the unit later: its first step removes the
 *    batch's earlier copies, so at rest each event is in one object. A data-access subscriber that
 *    was notified of the failed attempt's objects is notified of the repeat's too (the only case
 *    where one sees an event twice; `metadata.uid` identifies it).
 */
export const EXPORTS_TABLE = "security_lake_exports";

/** The exports table's columns (Iceberg types). */
export const EXPORTS_COLUMNS: readonly { name: string; type: "string" | "int" | "boolean"; doc: string }[] = [
  { name: "stream", type: "string", doc: "The event's stream (metadata.log_name)" },
  { name: "dt", type: "string", doc: "The curated row's dt" },
  { name: "uid", type: "string", doc: "metadata.uid" },
  { name: "class_uid", type: "int", doc: "The OCSF class, so the custom source, it went to" },
  { name: "batch", type: "string", doc: "The curation execution that claimed it" },
  { name: "exported", type: "boolean", doc: "Whether its batch was delivered to Security Lake" },
];

/** Markers the state machine fills in (JSONata $replace). */
export const EXPORT_PLACEHOLDERS = {
  batch: "__BATCH__",
  fromDay: "__FROM_DAY__",
  day: "__DAY__",
  to: "__TO__",
  classUid: "__CLASS__",
} as const;

/** Most units one run delivers; the rest stay pending for the next run. */
export const MAX_UNITS_PER_RUN = 100;

const exportsTable = (database: string): string => `"${database}"."${EXPORTS_TABLE}"`;

/** Step 1: claims, for this batch, every event of days from `fromDay` that no batch holds. */
export function claimSql(database: string): string {
  const { batch, fromDay } = EXPORT_PLACEHOLDERS;
  return (
    `MERGE INTO ${exportsTable(database)} AS t ` +
    `USING (SELECT DISTINCT "stream", "dt", "uid", "class_uid" FROM (${ocsfEventsSql(database)}) WHERE "dt" >= '${fromDay}') AS s ` +
    `ON t."stream" = s."stream" AND t."dt" = s."dt" AND t."uid" = s."uid" ` +
    `WHEN NOT MATCHED THEN INSERT ("stream", "dt", "uid", "class_uid", "batch", "exported") ` +
    `VALUES (s."stream", s."dt", s."uid", s."class_uid", '${batch}', false)`
  );
}

/** Step 2: the undelivered (batch, class_uid, dt) units, oldest batch first. */
export function pendingSql(database: string): string {
  return (
    `SELECT "batch", CAST("class_uid" AS varchar) AS "class_uid", "dt" FROM ${exportsTable(database)} ` +
    `WHERE NOT "exported" GROUP BY "batch", "class_uid", "dt" ORDER BY "batch", "class_uid", "dt" LIMIT ${MAX_UNITS_PER_RUN}`
  );
}

/** Step 3's SELECT: the class's records of one unit (its batch's events of that day), joined to its claims. */
export function unitSelectSql(database: string, name: OcsfClassName): string {
  const view = viewOf(name);
  const { batch, day } = EXPORT_PLACEHOLDERS;
  const columns = view.columns.map((c) => `v."${c.name}"`).join(", ");
  return (
    `SELECT ${columns} FROM "${database}"."${view.name}" AS v JOIN (` +
    `SELECT "stream", "uid" FROM ${exportsTable(database)} WHERE "batch" = '${batch}' AND "class_uid" = ${OCSF_CLASSES[name].uid} ` +
    `AND "dt" = '${day}') AS e ON e."stream" = v."metadata"."log_name" AND e."uid" = v."metadata"."uid" ` +
    `WHERE v."dt" = '${day}' ORDER BY v."time"`
  );
}

/** Step 3's UNLOAD of one unit to its staging prefix (Parquet, ZSTD). */
export function unitUnloadSql(database: string, name: OcsfClassName): string {
  return `UNLOAD (${unitSelectSql(database, name)}) TO '${EXPORT_PLACEHOLDERS.to}' WITH (format = 'PARQUET', compression = 'ZSTD')`;
}

/** The daily and weekly upkeep of the exports table, beside the curated table's. */
export function optimizeExportsSql(database: string): string {
  return `OPTIMIZE ${exportsTable(database)} REWRITE DATA USING BIN_PACK`;
}

export function vacuumExportsSql(database: string): string {
  return `VACUUM ${exportsTable(database)}`;
}

/** Step 3's end: the unit is delivered. */
export function markSql(database: string): string {
  const { batch, day, classUid } = EXPORT_PLACEHOLDERS;
  return (
    `UPDATE ${exportsTable(database)} SET "exported" = true ` +
    `WHERE "batch" = '${batch}' AND "class_uid" = CAST('${classUid}' AS integer) AND "dt" = '${day}'`
  );
}

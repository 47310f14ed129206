/**
 * The Security Lake export as data: for each OCSF class (one custom source per class, as Security
 * Lake requires one class per source and per Parquet object) and each UTC day, one Athena `UNLOAD`
 * of that class's records of that day to an explicit prefix with Security Lake's partition layout:
 *
 *   <source location>region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/
 *
 * mixed case exactly (a Hive-style partitioned writer would lower-case `accountId` and `eventDay`,
 * so the prefix is written out, never derived from partition columns). A day is exported whole: the
 * step first removes what an earlier export of that day left under the prefix, then unloads, so a
 * re-export after late events (or after a failed attempt) leaves each event in exactly one object.
 */
import { OCSF_CLASSES, type OcsfClassName } from "./ocsf-rules";
import { OCSF_VIEWS, type OcsfView, ocsfEventsSql } from "./ocsf-schema";

/** Where one custom source's objects go. */
export interface ExportTarget {
  /** The source's location, as CreateCustomLogSource returns it: `s3://<bucket>/ext/<source>/`. */
  readonly location: string;
  readonly region: string;
  readonly accountId: string;
}

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

/** `region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/` under the source's location. */
export function exportPrefix(target: ExportTarget, day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`export day "${day}" is not yyyy-MM-dd`);
  if (!/^\d{12}$/.test(target.accountId)) throw new Error(`accountId "${target.accountId}" is not 12 digits`);
  const base = target.location.endsWith("/") ? target.location : `${target.location}/`;
  return `${base}region=${target.region}/accountId=${target.accountId}/eventDay=${day.replaceAll("-", "")}/`;
}

/** The view of a class. */
export function viewOf(name: OcsfClassName): OcsfView {
  const view = OCSF_VIEWS.find((v) => v.class === name);
  if (!view) throw new Error(`no OCSF view for ${name}`);
  return view;
}

/** The SELECT of one class and day: the OCSF attributes only (not `dt`), sorted by time. */
export function exportSelectSql(database: string, name: OcsfClassName, day: string): string {
  const view = viewOf(name);
  const columns = view.columns.map((c) => `"${c.name}"`).join(", ");
  return `SELECT ${columns} FROM "${database}"."${view.name}" WHERE "dt" = '${day}' ORDER BY "time"`;
}

/** Athena's UNLOAD of one class and day to its explicit, mixed-case prefix (Parquet, ZSTD). */
export function unloadSql(database: string, name: OcsfClassName, day: string, target: ExportTarget): string {
  return (
    `UNLOAD (${exportSelectSql(database, name, day)}) TO '${exportPrefix(target, day)}' ` +
    `WITH (format = 'PARQUET', compression = 'ZSTD')`
  );
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
 *    batch's earlier copies, so at rest each event is in one object.
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

/** Step 3's end: the unit is delivered. */
export function markSql(database: string): string {
  const { batch, day, classUid } = EXPORT_PLACEHOLDERS;
  return (
    `UPDATE ${exportsTable(database)} SET "exported" = true ` +
    `WHERE "batch" = '${batch}' AND "class_uid" = CAST('${classUid}' AS integer) AND "dt" = '${day}'`
  );
}

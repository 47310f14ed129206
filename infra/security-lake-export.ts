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
import { OCSF_VIEWS, type OcsfView } from "./ocsf-schema";

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

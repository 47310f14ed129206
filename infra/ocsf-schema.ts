/**
 * The OCSF 1.1.0 views over `events_curated`, as data: one view per class (`ocsf_<class>`, only
 * OCSF attributes plus the partition helper `dt`), all reading `ocsf_events` (ocsf-events.ts),
 * which gives every curated row exactly one class (ocsf-rules.ts). The same SQL runs on Athena and
 * on Trino in the tests; the Security Lake export writes each view's OCSF columns as Parquet.
 */
import {
  actor,
  BASE_CONSUMED,
  baseColumns,
  type Consumed,
  ENDPOINT_CONSUMED,
  endpointColumns,
  location,
  str,
  unmapped,
  userOf,
} from "./ocsf-columns";
import { ocsfEventsSql } from "./ocsf-events";
import { OCSF_CLASSES, type OcsfClassName } from "./ocsf-rules";
import { type Field, hiveTypeOf, type OcsfType, prestoTypeOf, rowOf } from "./ocsf-types";

export const OCSF_EVENTS_VIEW = "ocsf_events";

interface ClassSpec {
  readonly columns: Record<string, Field>;
  readonly consumed: Consumed;
}

const TARGET_USER: Consumed = [
  ["affectedUserId", "target_user_id IS NOT NULL"],
  ["referencedUserId", "target_user_id IS NOT NULL"],
];
const ACTOR: Consumed = [["userId", "user_id IS NOT NULL"]];

const related = `transform(alert_event_ids, x -> CAST(ROW(x) AS row(uid varchar)))`;

function evidence(user: string, ip: string, withLocation: boolean): Field {
  const loc = location();
  return rowOf(
    {
      actor: rowOf({ user: userOf(user) }, `${user} IS NOT NULL`),
      src_endpoint: rowOf(
        {
          ip: str(ip),
          location: withLocation ? loc : { type: loc.type, sql: `CAST(NULL AS ${prestoTypeOf(loc.type)})` },
        },
        `${ip} IS NOT NULL`,
      ),
    },
    `${user} IS NOT NULL OR ${ip} IS NOT NULL`,
  );
}

function evidences(): Field {
  const first = evidence("user_id", "ip", true);
  const signer = evidence("signer_user_id", "signer_ip", false);
  const all = `filter(ARRAY[${first.sql}, ${signer.sql}], e -> e IS NOT NULL)`;
  return { type: { array: first.type }, sql: `CASE WHEN cardinality(${all}) > 0 THEN ${all} END` };
}

const envelopeResource = rowOf({ uid: str("envelope_id"), type: str("'Envelope'") });

const SPECS: Record<OcsfClassName, ClassSpec> = {
  base_event: { columns: {}, consumed: [] },
  detection_finding: {
    columns: {
      count: { type: "integer", sql: "alert_count" },
      finding_info: rowOf({
        uid: str("uid"),
        title: str("coalesce(action, 'Alert')"),
        types: { type: { array: "varchar" }, sql: "ARRAY[coalesce(action, 'Alert')]" },
        related_events: { type: { array: { row: { uid: "varchar" } } }, sql: related },
      }),
      evidences: evidences(),
      resources: {
        type: { array: envelopeResource.type },
        sql: `CASE WHEN envelope_id IS NOT NULL THEN ARRAY[${envelopeResource.sql}] END`,
      },
    },
    consumed: [...ACTOR, ["ipAddress", "ip IS NOT NULL"], ["ipAddressLocation", "ip IS NOT NULL"]],
  },
  account_change: {
    columns: { user: userOf("self_user_id"), actor: actor(), ...endpointColumns() },
    consumed: [...TARGET_USER, ...ACTOR, ...ENDPOINT_CONSUMED],
  },
  authentication: {
    columns: {
      user: userOf("user_id"),
      // OCSF 1.1.0 asks for `service` or `dst_endpoint`: the service signed in to is DocuSign.
      service: rowOf({ name: str("'DocuSign'") }),
      is_mfa: { type: "boolean", sql: "CASE WHEN act LIKE '%twofactor%' OR act LIKE '%mfa%' THEN true END" },
      status_detail: str("failure_reason"),
      ...endpointColumns(),
    },
    consumed: [...ACTOR, ...ENDPOINT_CONSUMED],
  },
  entity_management: {
    columns: {
      entity: rowOf({
        uid: str(
          "coalesce(template_id, group_id, CASE WHEN obj IN ('User', 'Organization') THEN target_user_id WHEN obj = 'Account' THEN account_id END)",
        ),
        name: str("coalesce(settings_key, property, obj)"),
        type: str("obj"),
      }),
    },
    // No `actor` here: in 1.1.0 Entity Management has it only with the host profile.
    consumed: [],
  },
  user_access: {
    columns: {
      user: userOf("target_user_id"),
      privileges: {
        type: { array: "varchar" },
        sql: `ARRAY[coalesce('PermissionProfile:' || new_profile_id, CASE WHEN act LIKE '%admin%' THEN 'Administrator' END, property, action)]`,
      },
    },
    consumed: TARGET_USER,
  },
  group_management: {
    columns: {
      group: rowOf({ uid: str("group_id"), name: str("group_name") }),
      user: userOf("member_user_id"),
    },
    consumed: [],
  },
  web_resources_activity: {
    columns: {
      web_resources: { type: { array: envelopeResource.type }, sql: `ARRAY[${envelopeResource.sql}]` },
      ...endpointColumns(),
    },
    consumed: ENDPOINT_CONSUMED,
  },
};

export interface ViewColumn {
  readonly name: string;
  readonly type: OcsfType;
}

export interface OcsfView {
  readonly name: string;
  readonly class: OcsfClassName;
  /** The OCSF attributes, in order; the view adds `dt` (the curated row's partition) after them. */
  readonly columns: readonly ViewColumn[];
  /** `from`: what the view reads, by default `<database>.ocsf_events` (the Glue views inline its SQL). */
  readonly sql: (database: string, from?: string) => string;
}

function classView(name: OcsfClassName): OcsfView {
  const spec = SPECS[name];
  const fields: Record<string, Field> = {
    ...baseColumns(name),
    ...spec.columns,
    unmapped: unmapped([...BASE_CONSUMED, ...spec.consumed]),
  };
  const select = Object.entries(fields).map(([column, f]) => `${f.sql} AS "${column}"`);
  return {
    name: `ocsf_${name}`,
    class: name,
    columns: Object.entries(fields).map(([column, f]) => ({ name: column, type: f.type })),
    sql: (database, from = `"${database}"."${OCSF_EVENTS_VIEW}"`) =>
      `SELECT ${select.join(", ")}, "dt" FROM ${from} WHERE "class_uid" = ${OCSF_CLASSES[name].uid}`,
  };
}

/** One view per class, Base Event included. */
export const OCSF_VIEWS: readonly OcsfView[] = (Object.keys(OCSF_CLASSES) as OcsfClassName[]).map(classView);

/** Presto and Hive column lists of a view (its OCSF attributes, then `dt`). */
export function viewColumns(view: OcsfView): { name: string; type: string; hiveType: string }[] {
  return [
    ...view.columns.map((c) => ({ name: c.name, type: prestoTypeOf(c.type), hiveType: hiveTypeOf(c.type) })),
    { name: "dt", type: "varchar", hiveType: "string" },
  ];
}

export { ocsfEventsSql };

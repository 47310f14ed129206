import { Aws, RemovalPolicy, Stack, Token } from "aws-cdk-lib";
import * as athena from "aws-cdk-lib/aws-athena";
import * as glue from "aws-cdk-lib/aws-glue";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct, IDependable } from "constructs";
import {
  dedupViewSql,
  EVENT_FIELDS,
  EVENTS_LINES,
  EVENTS_UNTIMED_LINES,
  hiveType,
  VIEW_COLUMNS,
} from "./athena-schema";
import { athenaViewTableInput } from "./athena-view";
import { createQueryResults } from "./query-results";
import { SAVED_QUERIES } from "./saved-queries";

export interface QueryProps {
  readonly bucket: s3.IBucket;
  readonly prefix: string;
  /** First `dt` of the partition projection. */
  readonly projectionStart: string;
  readonly bytesScannedCutoff: number;
  /** The server-access-log bucket, for the results bucket's logs. */
  readonly accessLogs: s3.IBucket;
  /** Encrypts the query results. @default SSE-S3 */
  readonly encryptionKey?: kms.IKey;
}

export interface Query {
  readonly database: glue.Database;
  /** The database's name as text (the Database's own is a token at synth). */
  readonly databaseName: string;
  /** The database, its tables and the view: what grants on them wait for. */
  readonly catalog: readonly IDependable[];
  readonly workgroup: athena.CfnWorkGroup;
  /** Where the workgroup writes query results. */
  readonly results: s3.Bucket;
  /** The Glue tables and view analysts read (events, events_lines, events_lines_untimed, events_dedup). */
  readonly tableNames: readonly string[];
}

/** Days a query result is kept in the results bucket. */
export const RESULTS_EXPIRATION_DAYS = 7;

/**
 * Athena over the lake: the Glue database ("Database"), the events table ("Events"), the exact-line
 * tables ("EventsLines", and "EventsLinesUntimed" for the untimed day), the dedup view over them
 * ("EventsDedupView"), the workgroup ("WorkGroup") and the saved queries ("Query-<name>").
 */
export function createQuery(scope: Construct, props: QueryProps): Query {
  const databaseName = lakeDatabaseName(scope);
  // Deleted with the stack (its tables and view are too; the data stays in the retained bucket): a
  // retained database would keep its fixed name and fail the next deployment with "already exists".
  const database = new glue.Database(scope, "Database", {
    databaseName,
    description: "DocuSign Monitor events (monitor-lake)",
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const events = createEventsTable(scope, database, props);
  const lines = createLinesTable(
    scope,
    database,
    props,
    "EventsLines",
    EVENTS_LINES.table,
    dtProjection(props),
    {
      description: "Every stored line as it is (the exact NDJSON text), one row per line",
    },
  );
  const untimed = createLinesTable(
    scope,
    database,
    props,
    "EventsLinesUntimed",
    EVENTS_UNTIMED_LINES.table,
    { dt: glue.PartitionProjectionConfiguration.enum({ values: [EVENTS_UNTIMED_LINES.day] }) },
    {
      description: `The stored lines of the untimed day (dt ${EVENTS_UNTIMED_LINES.day}: events without a usable timestamp), which events_lines does not read`,
    },
  );
  const view = createDedupView(scope, database, databaseName);
  view.node.addDependency(lines, untimed);
  const results = createQueryResults(scope, {
    accessLogs: props.accessLogs,
    expirationDays: RESULTS_EXPIRATION_DAYS,
    ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
  });
  const workgroup = new athena.CfnWorkGroup(scope, "WorkGroup", {
    name: `monitor-lake-${Stack.of(scope).stackName}`,
    description: "Queries over the monitor-lake events",
    state: "ENABLED",
    recursiveDeleteOption: true,
    workGroupConfiguration: {
      enforceWorkGroupConfiguration: true,
      publishCloudWatchMetricsEnabled: true,
      bytesScannedCutoffPerQuery: props.bytesScannedCutoff,
      engineVersion: { selectedEngineVersion: "Athena engine version 3" },
      resultConfiguration: {
        outputLocation: `s3://${results.bucketName}/`,
        encryptionConfiguration: props.encryptionKey
          ? { encryptionOption: "SSE_KMS", kmsKey: props.encryptionKey.keyArn }
          : { encryptionOption: "SSE_S3" },
      },
    },
  });
  for (const q of SAVED_QUERIES) {
    const query = new athena.CfnNamedQuery(scope, `Query-${q.name}`, {
      name: `monitor-lake: ${q.name}`,
      description: q.description,
      database: database.databaseName,
      workGroup: workgroup.name,
      queryString: q.sql(databaseName),
    });
    query.node.addDependency(workgroup);
  }
  return {
    database,
    databaseName,
    catalog: [database, events, lines, untimed, view],
    workgroup,
    results,
    tableNames: ["events", EVENTS_LINES.table, EVENTS_UNTIMED_LINES.table, "events_dedup"],
  };
}

/**
 * The Glue database name. It is fixed here, not read back from the Database (a Ref token at synth): the
 * view's base64 JSON, the saved queries and the curation's SQL embed it, and a token inside base64 can
 * never be resolved.
 */
export function lakeDatabaseName(scope: Construct): string {
  const name = `monitor_lake_${Stack.of(scope)
    .stackName.toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")}`;
  if (Token.isUnresolved(name)) {
    throw new Error(
      "MonitorLake needs a stack with a concrete name (not a token): the Athena view embeds the database name.",
    );
  }
  return name;
}

/** `dt` projected from the configured start to today, one partition per day (yyyy-MM-dd). */
function dtProjection(props: QueryProps): Record<string, glue.PartitionProjectionConfiguration> {
  return {
    dt: glue.PartitionProjectionConfiguration.date({
      min: props.projectionStart,
      max: "NOW",
      format: "yyyy-MM-dd",
      step: { interval: 1, intervalUnit: glue.DateIntervalUnit.DAYS },
    }),
  };
}

function createEventsTable(scope: Construct, database: glue.Database, props: QueryProps): glue.S3Table {
  const events = new glue.S3Table(scope, "Events", {
    database,
    tableName: "events",
    description: "DocuSign Monitor events as received, one gzipped NDJSON object per chunk and day",
    storage: glue.S3TableStorage.fromBucket(props.bucket),
    s3Prefix: `${props.prefix}events/`,
    dataFormat: glue.DataFormat.JSON,
    columns: EVENT_FIELDS.map((f) => ({
      name: f.name.toLowerCase(),
      type: glue.Schema.custom(hiveType(f.type)),
    })),
    partitionKeys: [{ name: "dt", type: glue.Schema.STRING }],
    partitionProjection: dtProjection(props),
    compressed: true,
  });
  // OpenX SerDe: JSON keys are matched case-insensitively (eventId -> eventid) and `data`, an object,
  // is read into its string column as JSON text (on Athena with its keys lower-cased: the view reads
  // events_lines instead).
  (events.node.defaultChild as glue.CfnTable).addPropertyOverride(
    "TableInput.StorageDescriptor.SerdeInfo.Parameters",
    { "case.insensitive": "TRUE", "ignore.malformed.json": "FALSE", "dots.in.keys": "FALSE" },
  );
  return events;
}

/**
 * An exact-line table (athena-schema.ts, EVENTS_LINES and EVENTS_UNTIMED_LINES) over the lake's
 * `events/`, the days of `projection` only.
 */
function createLinesTable(
  scope: Construct,
  database: glue.Database,
  props: QueryProps,
  id: string,
  tableName: string,
  projection: Record<string, glue.PartitionProjectionConfiguration>,
  text: { readonly description: string },
): glue.S3Table {
  const lines = new glue.S3Table(scope, id, {
    database,
    tableName,
    description: text.description,
    storage: glue.S3TableStorage.fromBucket(props.bucket),
    s3Prefix: `${props.prefix}events/`,
    dataFormat: new glue.DataFormat({
      inputFormat: new glue.InputFormat(EVENTS_LINES.inputFormat),
      outputFormat: new glue.OutputFormat(EVENTS_LINES.outputFormat),
      serializationLibrary: new glue.SerializationLibrary(EVENTS_LINES.serializationLibrary),
    }),
    columns: [{ name: EVENTS_LINES.column, type: glue.Schema.STRING }],
    partitionKeys: [{ name: "dt", type: glue.Schema.STRING }],
    partitionProjection: projection,
    compressed: true,
  });
  (lines.node.defaultChild as glue.CfnTable).addPropertyOverride(
    "TableInput.StorageDescriptor.SerdeInfo.Parameters",
    EVENTS_LINES.serdeParameters,
  );
  return lines;
}

function createDedupView(scope: Construct, database: glue.Database, databaseName: string): glue.CfnTable {
  return new glue.CfnTable(scope, "EventsDedupView", {
    catalogId: Aws.ACCOUNT_ID,
    databaseName: database.databaseName,
    tableInput: athenaViewTableInput({
      name: "events_dedup",
      description:
        "One row per eventId, every field read from the exact line, event_time parsed from timestamp",
      database: databaseName,
      sql: dedupViewSql(databaseName),
      columns: VIEW_COLUMNS,
    }),
  });
}

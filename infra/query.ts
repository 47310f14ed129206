import { Aws, Stack, Token } from "aws-cdk-lib";
import * as athena from "aws-cdk-lib/aws-athena";
import * as glue from "aws-cdk-lib/aws-glue";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";
import { dedupViewSql, EVENT_FIELDS, hiveType, SAVED_QUERIES, VIEW_COLUMNS } from "./athena-schema";

export interface QueryProps {
  readonly bucket: s3.IBucket;
  readonly prefix: string;
  /** First `dt` of the partition projection. */
  readonly projectionStart: string;
  readonly bytesScannedCutoff: number;
}

export interface Query {
  readonly database: glue.Database;
  readonly workgroup: athena.CfnWorkGroup;
}

/**
 * Athena over the lake: the Glue database ("Database"), the events table ("Events"), the dedup view
 * ("EventsDedupView"), the workgroup ("WorkGroup") and the saved queries ("Query-<name>").
 */
export function createQuery(scope: Construct, props: QueryProps): Query {
  const databaseName = lakeDatabaseName(scope);
  const database = new glue.Database(scope, "Database", {
    databaseName,
    description: "DocuSign Monitor events (monitor-lake)",
  });
  const events = createEventsTable(scope, database, props);
  createDedupView(scope, database, databaseName).node.addDependency(events);
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
        outputLocation: `s3://${props.bucket.bucketName}/${props.prefix}athena-results/`,
        encryptionConfiguration: { encryptionOption: "SSE_S3" },
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
  return { database, workgroup };
}

/**
 * The name is fixed here, not read back from the Database (a Ref token at synth): the view's base64 JSON
 * and the saved queries embed it, and a token inside base64 can never be resolved.
 */
function lakeDatabaseName(scope: Construct): string {
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
    partitionProjection: {
      dt: glue.PartitionProjectionConfiguration.date({
        min: props.projectionStart,
        max: "NOW",
        format: "yyyy-MM-dd",
        step: { interval: 1, intervalUnit: glue.DateIntervalUnit.DAYS },
      }),
    },
    compressed: true,
  });
  // OpenX SerDe: JSON keys are matched case-insensitively (eventId -> eventid) and `data`, an object,
  // is read into its string column as JSON text.
  (events.node.defaultChild as glue.CfnTable).addPropertyOverride(
    "TableInput.StorageDescriptor.SerdeInfo.Parameters",
    { "case.insensitive": "TRUE", "ignore.malformed.json": "FALSE", "dots.in.keys": "FALSE" },
  );
  return events;
}

function createDedupView(scope: Construct, database: glue.Database, databaseName: string): glue.CfnTable {
  const prestoView = {
    originalSql: dedupViewSql(databaseName),
    catalog: "awsdatacatalog",
    schema: databaseName,
    columns: VIEW_COLUMNS.map((c) => ({ name: c.name, type: c.type })),
  };
  return new glue.CfnTable(scope, "EventsDedupView", {
    catalogId: Aws.ACCOUNT_ID,
    databaseName: database.databaseName,
    tableInput: {
      name: "events_dedup",
      description: "One row per eventId, with event_time parsed from timestamp",
      tableType: "VIRTUAL_VIEW",
      parameters: { presto_view: "true", comment: "Presto View" },
      viewOriginalText: `/* Presto View: ${Buffer.from(JSON.stringify(prestoView)).toString("base64")} */`,
      viewExpandedText: "/* Presto View */",
      storageDescriptor: {
        columns: VIEW_COLUMNS.map((c) => ({ name: c.name, type: c.hiveType })),
        serdeInfo: {},
      },
    },
  });
}

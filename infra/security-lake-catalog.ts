/**
 * The Glue catalog side of the Security Lake export: the OCSF class views, the exports table, what the
 * curation's role needs for the export's queries, and the export's part of the curation definition.
 */
import { Aws, Stack } from "aws-cdk-lib";
import * as glue from "aws-cdk-lib/aws-glue";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";
import { athenaViewTableInput } from "./athena-view";
import { CURATED_PROPERTIES } from "./curated-schema";
import type { ExportDefinition } from "./curation-definition";
import { icebergTable } from "./iceberg-table";
import { OCSF_CLASSES } from "./ocsf-rules";
import { OCSF_VIEWS, ocsfEventsSql, viewColumns } from "./ocsf-schema";
import type { SecurityLake, SecurityLakeProps } from "./security-lake";
import {
  claimSql,
  EXPORTS_COLUMNS,
  EXPORTS_TABLE,
  markSql,
  optimizeExportsSql,
  pendingSql,
  unitUnloadSql,
  vacuumExportsSql,
} from "./security-lake-export";
import { STAGING_PREFIX } from "./security-lake-options";

/** `ocsf_<class>` views in the Glue catalog, each with `ocsf_events`' SQL inlined (one view per class). */
export function createViews(scope: Construct, props: SecurityLakeProps): glue.CfnTable[] {
  return OCSF_VIEWS.map((view) => {
    const table = new glue.CfnTable(
      scope,
      `OcsfView${view.name.replace(/(^|_)(\w)/g, (_, __, c: string) => c.toUpperCase())}`,
      {
        catalogId: Aws.ACCOUNT_ID,
        databaseName: props.databaseName,
        tableInput: athenaViewTableInput({
          name: view.name,
          description: `OCSF 1.1.0 ${OCSF_CLASSES[view.class].caption} (${OCSF_CLASSES[view.class].uid}) records of events_curated`,
          database: props.databaseName,
          sql: view.sql(props.databaseName, `(${ocsfEventsSql(props.databaseName)})`),
          columns: viewColumns(view),
        }),
      },
    );
    table.node.addDependency(...props.catalog);
    return table;
  });
}

/** `security_lake_exports` (Iceberg): which batch claimed each event, and whether it was delivered. */
export function createExportsTable(scope: Construct, props: SecurityLakeProps): glue.CfnTable {
  return icebergTable(scope, "SecurityLakeExportsTable", {
    databaseName: props.databaseName,
    database: props.database,
    name: EXPORTS_TABLE,
    description: "Each event exported to Security Lake once: its batch, and whether the batch was delivered",
    location: `s3://${props.lake.bucketName}/${props.prefix}security-lake-exports/`,
    columns: EXPORTS_COLUMNS,
    partitioning: [{ column: "dt", transform: "identity" }],
    properties: CURATED_PROPERTIES,
  });
}

/** The export's queries (claim, pending, UNLOAD, mark) and the delivery call, for the curation's role. */
export function curationExportStatements(
  scope: Construct,
  props: SecurityLakeProps,
  deliver: lambda.IFunction,
): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const table = (name: string) =>
    stack.formatArn({ service: "glue", resource: "table", resourceName: `${props.databaseName}/${name}` });
  return [
    new iam.PolicyStatement({
      actions: ["glue:GetTable", "glue:UpdateTable"],
      resources: [table(EXPORTS_TABLE), ...OCSF_VIEWS.map((v) => table(v.name))],
    }),
    new iam.PolicyStatement({
      actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
      resources: [props.lake.arnForObjects(`${props.prefix}security-lake-exports/*`)],
    }),
    // UNLOAD checks that its staging prefix is empty, then writes there.
    new iam.PolicyStatement({
      actions: ["s3:ListBucket", "s3:GetBucketLocation"],
      resources: [props.results.bucketArn],
    }),
    new iam.PolicyStatement({
      actions: ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
      resources: [props.results.arnForObjects(`${STAGING_PREFIX}*`)],
    }),
    new iam.PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: [deliver.functionArn] }),
  ];
}

/** The curation's export: the statements for `databaseName` and where each class goes. */
export function exportDefinition(lake: SecurityLake, databaseName: string): ExportDefinition {
  return {
    claimSql: claimSql(databaseName),
    pendingSql: pendingSql(databaseName),
    markSql: markSql(databaseName),
    optimizeSql: optimizeExportsSql(databaseName),
    vacuumSql: vacuumExportsSql(databaseName),
    classes: Object.fromEntries(
      lake.sources.map((s) => [
        String(OCSF_CLASSES[s.class].uid),
        { unloadSql: unitUnloadSql(databaseName, s.class), location: s.location },
      ]),
    ),
    deliverFunctionArn: lake.deliverFunction.functionArn,
    stagingUrl: lake.stagingUrl,
    region: Aws.REGION,
    accountId: Aws.ACCOUNT_ID,
  };
}

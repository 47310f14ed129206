import type * as glue from "aws-cdk-lib/aws-glue";

/**
 * A view in the Glue Data Catalog in the shape Athena writes for `CREATE VIEW` (a "Presto view"), so
 * that Athena, and Trino over Glue, run it like one Athena created:
 *
 * - `TableType: VIRTUAL_VIEW`, parameters `presto_view=true` and `comment=Presto View`;
 * - `PartitionKeys: []`: Athena's view documentation requires the empty list for views created through
 *   the Glue API ("otherwise the view fails in Athena");
 * - the columns in the StorageDescriptor (Hive types), with a SerDe: a view whose StorageDescriptor has
 *   no SerDe info fails with `HIVE_METASTORE_ERROR: Table storage descriptor is missing SerDe info`
 *   (terraform-provider-aws#28517), and CloudFormation may drop an empty `SerdeInfo: {}` object, so the
 *   library is named; no `Location` (an empty one breaks Spark's reader, aws-glue-data-catalog-client#29);
 * - `ViewOriginalText: /* Presto View: <base64 of the view JSON> *\/` and `ViewExpandedText:
 *   /* Presto View *\/`. The view JSON has the fields of Trino's ConnectorViewDefinition: originalSql,
 *   catalog, schema, columns (Presto types) and runAsInvoker; no owner, since the deploying principal is
 *   not known at synth and a token can never be resolved inside base64.
 */

export const VIEW_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe";

export interface PrestoViewJson {
  readonly originalSql: string;
  readonly catalog: string;
  readonly schema: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly runAsInvoker: boolean;
}

export interface AthenaViewSpec {
  readonly name: string;
  readonly description: string;
  /** The Glue database (Athena schema) the SQL's unqualified names resolve in. */
  readonly database: string;
  readonly sql: string;
  /** Name, Presto type (the view JSON) and Hive type (the Glue columns) of each column, in order. */
  readonly columns: readonly { readonly name: string; readonly type: string; readonly hiveType: string }[];
}

/** `/* Presto View: <base64> *\/` of the view JSON. */
export function prestoViewText(json: PrestoViewJson): string {
  return `/* Presto View: ${Buffer.from(JSON.stringify(json)).toString("base64")} */`;
}

/** The TableInput of an Athena view (see above). */
export function athenaViewTableInput(spec: AthenaViewSpec): glue.CfnTable.TableInputProperty {
  const json: PrestoViewJson = {
    originalSql: spec.sql,
    catalog: "awsdatacatalog",
    schema: spec.database,
    columns: spec.columns.map((c) => ({ name: c.name, type: c.type })),
    runAsInvoker: false,
  };
  return {
    name: spec.name,
    description: spec.description,
    tableType: "VIRTUAL_VIEW",
    parameters: { presto_view: "true", comment: "Presto View" },
    partitionKeys: [],
    viewOriginalText: prestoViewText(json),
    viewExpandedText: "/* Presto View */",
    storageDescriptor: {
      columns: spec.columns.map((c) => ({ name: c.name, type: c.hiveType })),
      serdeInfo: { serializationLibrary: VIEW_SERDE },
    },
  };
}

import { Aws } from "aws-cdk-lib";
import * as glue from "aws-cdk-lib/aws-glue";
import type { Construct, IDependable } from "constructs";

export interface IcebergTableProps {
  readonly databaseName: string;
  /** The Glue database the table goes in: created first. */
  readonly database: IDependable;
  readonly name: string;
  readonly description: string;
  /** `s3://bucket/prefix/`: the table's data and metadata files. */
  readonly location: string;
  readonly columns: readonly { readonly name: string; readonly type: string; readonly doc: string }[];
  /** Partition fields in order: a column and its Iceberg transform. */
  readonly partitioning: readonly { readonly column: string; readonly transform: "day" | "identity" }[];
  readonly properties: Readonly<Record<string, string>>;
}

/**
 * An Iceberg v2 table created by Glue at deploy (`OpenTableFormatInput`), as Athena and Trino read it:
 * field ids from 1 in column order, partition field ids from 1000, every column optional.
 */
export function icebergTable(scope: Construct, id: string, props: IcebergTableProps): glue.CfnTable {
  const fieldId = (name: string): number => props.columns.findIndex((c) => c.name === name) + 1;
  const { location } = props;
  const table = new glue.CfnTable(scope, id, {
    catalogId: Aws.ACCOUNT_ID,
    databaseName: props.databaseName,
    tableInput: {
      name: props.name,
      description: props.description,
      tableType: "EXTERNAL_TABLE",
      storageDescriptor: { location },
    },
    openTableFormatInput: {
      icebergInput: {
        metadataOperation: "CREATE",
        version: "2",
        icebergTableInput: {
          location,
          schema: {
            type: "struct",
            schemaId: 0,
            fields: props.columns.map((c, i) => ({
              id: i + 1,
              name: c.name,
              type: c.type,
              required: false,
              doc: c.doc,
            })),
          },
          partitionSpec: {
            specId: 0,
            fields: props.partitioning.map((p, i) => ({
              sourceId: fieldId(p.column),
              transform: p.transform,
              name: p.transform === "identity" ? p.column : `${p.column}_${p.transform}`,
              fieldId: 1000 + i,
            })),
          },
          properties: { ...props.properties },
        },
      },
    },
  });
  table.node.addDependency(props.database);
  return table;
}

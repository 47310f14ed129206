import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TRINO_VERSION } from "./trino";

/**
 * Writes the Glue database and tables of a synthesized CloudFormation template into Trino's file
 * metastore as they are: columns, partition keys, parameters, SerDe and formats, view text byte for
 * byte. Only two things are supplied that Glue fills in at deploy time: the table's S3 location
 * becomes a local one, and every entry gets an owner (Trino needs one to run a view) and the
 * metastore's format version.
 */

interface GlueColumn {
  readonly Name: string;
  readonly Type: string;
}

interface TableInput {
  readonly Name: string;
  readonly TableType: string;
  readonly Parameters?: Record<string, unknown>;
  readonly PartitionKeys?: GlueColumn[];
  readonly ViewOriginalText?: string;
  readonly ViewExpandedText?: string;
  readonly StorageDescriptor: {
    readonly Columns: GlueColumn[];
    readonly Location?: unknown;
    readonly InputFormat?: string;
    readonly OutputFormat?: string;
    readonly SerdeInfo?: {
      readonly SerializationLibrary?: string;
      readonly Parameters?: Record<string, string>;
    };
  };
}

export interface TemplateJson {
  readonly Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

const OWNER = "monitor-lake";

/** `Ref` and `Fn::Join` resolved; a Ref to anything but a Glue database becomes `<LogicalId>`. */
function resolve(value: unknown, template: TemplateJson): string {
  if (typeof value === "string") return value;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === "string") {
    const target = template.Resources[v.Ref];
    const name = (target?.Properties.DatabaseInput as { Name?: string } | undefined)?.Name;
    return target?.Type === "AWS::Glue::Database" && name ? name : `<${v.Ref}>`;
  }
  const join = v["Fn::Join"] as [string, unknown[]] | undefined;
  if (join) return join[1].map((part) => resolve(part, template)).join(join[0]);
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

/**
 * Writes every Glue database and table of `template` under `<root>/metastore`. An S3 location
 * `s3://<bucket>/<path>` becomes `local:///<lakeDir>/<path>`. Returns the database names.
 */
export async function writeGlueCatalog(
  template: TemplateJson,
  root: string,
  lakeDir: string,
): Promise<string[]> {
  const metastore = join(root, "metastore");
  const databases: string[] = [];
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== "AWS::Glue::Database") continue;
    const input = resource.Properties.DatabaseInput as { Name: string; Description?: string };
    databases.push(input.Name);
    await mkdir(join(metastore, input.Name), { recursive: true });
    await writeFile(
      join(metastore, `.${input.Name}.trinoSchema`),
      JSON.stringify({
        writerVersion: TRINO_VERSION,
        ownerName: OWNER,
        ownerType: "USER",
        ...(input.Description ? { comment: input.Description } : {}),
        parameters: {},
      }),
    );
  }
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== "AWS::Glue::Table") continue;
    // An Iceberg table: Glue writes its metadata at deploy; on Trino it is made through the Iceberg
    // catalog (dev/trino-iceberg.ts).
    if (resource.Properties.OpenTableFormatInput !== undefined) continue;
    const database = resolve(resource.Properties.DatabaseName, template);
    const input = resource.Properties.TableInput as TableInput;
    const sd = input.StorageDescriptor;
    const column = (c: GlueColumn) => ({ name: c.Name, type: c.Type, properties: {} });
    const parameters = Object.fromEntries(
      Object.entries(input.Parameters ?? {}).map(([k, v]) => [k, String(v)]),
    );
    const location =
      sd.Location === undefined
        ? undefined
        : resolve(sd.Location, template).replace(/^s3:\/\/[^/]+\//, `local:///${lakeDir}/`);
    const entry = {
      writerVersion: TRINO_VERSION,
      owner: OWNER,
      tableType: input.TableType,
      dataColumns: sd.Columns.map(column),
      partitionColumns: (input.PartitionKeys ?? []).map(column),
      parameters,
      originalStorageFormat: {
        ...(sd.SerdeInfo?.SerializationLibrary ? { serde: sd.SerdeInfo.SerializationLibrary } : {}),
        ...(sd.InputFormat ? { inputFormat: sd.InputFormat } : {}),
        ...(sd.OutputFormat ? { outputFormat: sd.OutputFormat } : {}),
      },
      serdeParameters: sd.SerdeInfo?.Parameters ?? {},
      ...(location ? { externalLocation: location } : {}),
      ...(input.ViewOriginalText === undefined ? {} : { viewOriginalText: input.ViewOriginalText }),
      ...(input.ViewExpandedText === undefined ? {} : { viewExpandedText: input.ViewExpandedText }),
      columnStatistics: {},
    };
    const dir = join(metastore, database, input.Name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, ".trinoSchema"), JSON.stringify(entry, null, 2));
  }
  return databases;
}

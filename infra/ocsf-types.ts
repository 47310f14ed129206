/**
 * Column types of the OCSF views, rendered two ways from one definition: Presto/Trino type text for
 * the view's column list (`row(uid varchar)`) and Hive type text for its Glue columns
 * (`struct<uid:string>`), the same pair `athena-schema.ts` keeps for `events_dedup`.
 */

export type OcsfType =
  | "varchar"
  | "integer"
  | "bigint"
  | "double"
  | "boolean"
  | { readonly array: OcsfType }
  | { readonly map: "varchar" }
  | { readonly row: Readonly<Record<string, OcsfType>> };

const HIVE_SCALARS = {
  varchar: "string",
  integer: "int",
  bigint: "bigint",
  double: "double",
  boolean: "boolean",
} as const;

/** Presto/Trino type text, e.g. `row(uid varchar,type_id integer)`. */
export function prestoTypeOf(type: OcsfType): string {
  if (typeof type === "string") return type;
  if ("array" in type) return `array(${prestoTypeOf(type.array)})`;
  if ("map" in type) return "map(varchar,varchar)";
  return `row(${Object.entries(type.row)
    .map(([name, t]) => `${name} ${prestoTypeOf(t)}`)
    .join(",")})`;
}

/** Hive/Glue type text, e.g. `struct<uid:string,type_id:int>`. */
export function hiveTypeOf(type: OcsfType): string {
  if (typeof type === "string") return HIVE_SCALARS[type];
  if ("array" in type) return `array<${hiveTypeOf(type.array)}>`;
  if ("map" in type) return "map<string,string>";
  return `struct<${Object.entries(type.row)
    .map(([name, t]) => `${name}:${hiveTypeOf(t)}`)
    .join(",")}>`;
}

/** A struct value: `sql` per field, cast to named fields. */
export interface Field {
  readonly type: OcsfType;
  readonly sql: string;
}

/** `CAST(ROW(...) AS ROW(name type, ...))`, or NULL unless `when` holds. */
export function rowOf(fields: Readonly<Record<string, Field>>, when?: string): Field {
  const row: Record<string, OcsfType> = {};
  for (const [name, f] of Object.entries(fields)) row[name] = f.type;
  const type: OcsfType = { row };
  const value = `CAST(ROW(${Object.values(fields)
    .map((f) => f.sql)
    .join(", ")}) AS ${prestoTypeOf(type)})`;
  return { type, sql: when ? `CASE WHEN ${when} THEN ${value} END` : value };
}

/** A SQL string literal. */
export function lit(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

import { randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ICEBERG_CATALOG, type Trino } from "../../dev/trino";
import { OCSF_CLASSES, type OcsfClassName } from "../../infra/ocsf-rules";
import {
  claimSql,
  EXPORTS_COLUMNS,
  EXPORTS_TABLE,
  markSql,
  EXPORT_PLACEHOLDERS as P,
  pendingSql,
  unitSelectSql,
  unitUnloadSql,
} from "../../infra/security-lake-export";
import { deliver } from "../../lambda/security-lake/deliver";

/**
 * The curation's export steps as the state machine runs them (infra/curation-definition.ts), on
 * Trino and moto: the claim, pending and mark statements as defined; the UNLOAD's own SELECT
 * written by Trino's CREATE TABLE AS to an empty staging directory (Athena's UNLOAD writes that
 * SELECT's rows to an empty prefix alike); the staged Parquet files uploaded to a moto bucket as
 * Athena would leave them, and the delivery function run on them into the Security Lake bucket.
 */

const fill = (sql: string, values: Partial<Record<keyof typeof P, string>>): string =>
  (Object.keys(values) as (keyof typeof P)[]).reduce((s, k) => s.replaceAll(P[k], values[k] as string), sql);

export async function createExportsTable(trino: Trino, schema: string): Promise<void> {
  const types = { string: "varchar", int: "integer", boolean: "boolean" } as const;
  const columns = EXPORTS_COLUMNS.map((c) => `"${c.name}" ${types[c.type]}`).join(", ");
  await trino.query(
    `CREATE TABLE ${ICEBERG_CATALOG}."${schema}"."${EXPORTS_TABLE}" (${columns}) WITH (format = 'PARQUET', ` +
      `format_version = 2, partitioning = ARRAY['dt'], location = 'local:///lake/security-lake-exports')`,
  );
}

export interface Unit {
  readonly batch: string;
  readonly classUid: string;
  readonly day: string;
}

export interface ExportRig {
  readonly trino: Trino;
  readonly schema: string;
  readonly root: string;
  readonly s3: S3Client;
  readonly stagingBucket: string;
  readonly location: (name: OcsfClassName) => string;
}

export const classOf = (uid: string): OcsfClassName =>
  (Object.keys(OCSF_CLASSES) as OcsfClassName[]).find(
    (n) => String(OCSF_CLASSES[n].uid) === uid,
  ) as OcsfClassName;

export async function claim(rig: ExportRig, batch: string, fromDay: string): Promise<void> {
  await rig.trino.query(fill(claimSql(rig.schema), { batch, fromDay }), rig.schema);
}

export async function pending(rig: ExportRig): Promise<Unit[]> {
  const { rows } = await rig.trino.query(pendingSql(rig.schema), rig.schema);
  return (rows as [string, string, string][]).map(([batch, classUid, day]) => ({ batch, classUid, day }));
}

/** One unit's UNLOAD (staged, uploaded) and delivery; `mark` false stops before the mark, as a failure would. */
export async function exportUnit(
  rig: ExportRig,
  unit: Unit,
  mark = true,
): Promise<{ uids: string[]; keys: string[] }> {
  const name = classOf(unit.classUid);
  const table = `staged_${randomUUID().replaceAll("-", "")}`;
  const dir = `staging/${table}`;
  const select = fill(unitSelectSql(rig.schema, name), { batch: unit.batch, day: unit.day });
  // The statement the state machine runs starts with this SELECT.
  if (
    !fill(unitUnloadSql(rig.schema, name), { batch: unit.batch, day: unit.day }).startsWith(
      `UNLOAD (${select})`,
    )
  )
    throw new Error("the UNLOAD does not wrap the unit's SELECT");
  await rig.trino.query(
    `CREATE TABLE ${table} WITH (format = 'PARQUET', external_location = 'local:///${dir}') AS ${select}`,
    rig.schema,
  );
  const { rows } = await rig.trino.query(`SELECT metadata.uid FROM ${table}`, rig.schema);
  const prefix = `security-lake-staging/${table}/`;
  for (const file of await readdir(join(rig.root, dir))) {
    if (file.startsWith(".")) continue;
    await rig.s3.send(
      new PutObjectCommand({
        Bucket: rig.stagingBucket,
        Key: `${prefix}${file}`,
        Body: await readFile(join(rig.root, dir, file)),
      }),
    );
  }
  const delivered = await deliver(rig.s3, {
    location: rig.location(name),
    region: "us-east-1",
    accountId: "123456789012",
    day: unit.day,
    batch: unit.batch,
    staging: `s3://${rig.stagingBucket}/${prefix}`,
  });
  if (mark)
    await rig.trino.query(
      fill(markSql(rig.schema), { batch: unit.batch, classUid: unit.classUid, day: unit.day }),
      rig.schema,
    );
  return { uids: (rows as [string][]).map(([u]) => u), keys: delivered.keys };
}

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { Trino } from "../../dev/trino";
import { createCuratedTable, runMerge } from "../../dev/trino-iceberg";
import { type TemplateJson, writeGlueCatalog } from "../../dev/trino-metastore";
import { buildApp } from "../../infra/app";
import { OCSF_EVENTS_VIEW, OCSF_VIEWS, ocsfEventsSql } from "../../infra/ocsf-schema";
import { runLocalIngest } from "../../lambda/cli/run";
import { ENV, parseConfig } from "../../lambda/config";
import { envForSimulator } from "../../lambda/simulator/client-env";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";

/**
 * A demo lake in Trino with issue 22's `events_curated` (Iceberg, filled by its full MERGE exactly as
 * the curation runs it: dev/trino-iceberg.ts) and the OCSF views of infra/ocsf-schema.ts on
 * top, created as defined. The Glue database is the template's.
 */

export async function writeDemoLake(root: string, events: number): Promise<SimulatorFixture> {
  const sim = await startSimulator({
    seed: 23,
    events,
    days: 3,
    lateShare: 0.01,
    untimedShare: 0.001,
    plantCases: true,
  });
  const keyFile = join(root, "key.pem");
  await writeFile(keyFile, sim.keys.pkcs8Pem, { mode: 0o600 });
  const config = parseConfig(
    envForSimulator(sim, {
      [ENV.privateKeyFile]: keyFile,
      [ENV.startCursor]: "2000-01-01T00:00:00Z",
      [ENV.stream]: "demo",
    }),
    "local",
  );
  await runLocalIngest({ config, out: join(root, "lake") });
  await sim.simulator.stop();
  return sim;
}

/** Writes `lines` as one more raw object of stream `stream` in day `dt`. */
export async function addRawObject(
  root: string,
  dt: string,
  stream: string,
  lines: readonly string[],
): Promise<void> {
  const dir = join(root, "lake", "events", `dt=${dt}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${stream}-00000000000000ff-000.json.gz`), gzipSync(`${lines.join("\n")}\n`));
}

const cdkJson = JSON.parse(await readFile(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};

/**
 * The template's Glue catalog (synthesized with `securityLake`, so the OCSF class views are the
 * template's own Glue views, `ocsf_events` inlined), the raw-lines table, `events_curated` merged
 * once, and `ocsf_events` as a view of its own for the tests' queries; returns the database.
 */
export async function createOcsfTables(trino: Trino, root: string): Promise<string> {
  const app = new App({
    context: {
      ...cdkJson.context,
      integrationKey: "11111111-2222-3333-4444-555555555555",
      userId: "66666666-7777-8888-9999-000000000000",
      securityLake: "true",
    },
  });
  const template = Template.fromStack(buildApp(app)).toJSON() as TemplateJson;
  const schema = (await writeGlueCatalog(template, root, "lake"))[0] as string;
  await createCuratedTable(trino, schema, "lake");
  await runMerge(trino, schema, true);
  await trino.query(`CREATE VIEW ${OCSF_EVENTS_VIEW} AS ${ocsfEventsSql(schema)}`, schema);
  const views = Object.values(template.Resources)
    .filter((r) => r.Type === "AWS::Glue::Table")
    .map((r) => (r.Properties.TableInput as { Name: string }).Name);
  const missing = OCSF_VIEWS.filter((v) => !views.includes(v.name)).map((v) => v.name);
  if (missing.length > 0) throw new Error(`the template has no Glue view ${missing.join(", ")}`);
  return schema;
}

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { OCSF_EVENTS_VIEW, OCSF_VIEWS, ocsfEventsSql } from "../../infra/ocsf-schema";
import { runLocalIngest } from "../../lambda/cli/run";
import { ENV, parseConfig } from "../../lambda/config";
import { envForSimulator } from "../../lambda/simulator/client-env";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";
import type { Trino } from "../helpers/trino";

/**
 * A demo lake in Trino with `events_curated` and the OCSF views on top.
 *
 * STAND-IN: until issue 22's curation (branch h7-curated) lands, `events_curated` here is a Hive
 * Parquet table made by one CREATE TABLE AS over the raw lines (each stored line read exactly, as a
 * one-column text table), deduplicated per (stream, eventId) — or per exact line without an eventId —
 * with the five columns the OCSF views read: event_id, stream, event_time, dt, raw. The OCSF views are
 * created from `infra/ocsf-schema.ts` exactly as defined.
 */

export const SCHEMA = "ocsf";

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

const STREAM = `regexp_extract("$path", '/([A-Za-z0-9][A-Za-z0-9_.-]{0,63})-[0-9a-f]{16}-[0-9]+\\.json\\.gz$', 1)`;
const EVENT_TIME = `CAST(try(from_iso8601_timestamp(regexp_replace(json_extract_scalar(line, '$.timestamp'), '(\\.\\d{3})\\d+', '$1'))) AT TIME ZONE 'UTC' AS timestamp(3))`;

/** Creates the raw-lines table, the stand-in `events_curated`, `ocsf_events` and every class view. */
export async function createOcsfTables(trino: Trino): Promise<void> {
  await trino.query(`CREATE SCHEMA ${SCHEMA}`);
  await trino.query(
    `CREATE TABLE lines (line varchar, dt varchar) WITH (format = 'TEXTFILE', external_location = 'local:///lake/events', partitioned_by = ARRAY['dt'])`,
    SCHEMA,
  );
  await trino.query(`CALL system.sync_partition_metadata('${SCHEMA}', 'lines', 'FULL')`, SCHEMA);
  await trino.query(
    `CREATE TABLE events_curated WITH (format = 'PARQUET') AS
     SELECT event_id, stream, event_time, dt, raw FROM (
       SELECT json_extract_scalar(line, '$.eventId') AS event_id, ${STREAM} AS stream, ${EVENT_TIME} AS event_time,
         dt, line AS raw,
         row_number() OVER (PARTITION BY ${STREAM}, coalesce(nullif(json_extract_scalar(line, '$.eventId'), ''), line) ORDER BY "$path") AS rn
       FROM lines) WHERE rn = 1`,
    SCHEMA,
  );
  await trino.query(`CREATE VIEW ${OCSF_EVENTS_VIEW} AS ${ocsfEventsSql(SCHEMA)}`, SCHEMA);
  for (const view of OCSF_VIEWS) await trino.query(`CREATE VIEW ${view.name} AS ${view.sql(SCHEMA)}`, SCHEMA);
}

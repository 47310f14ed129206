import {
  CURATED_COLUMNS,
  CURATED_PARTITIONING,
  CURATED_TABLE,
  type IcebergType,
} from "../infra/curated-schema";
import { FULL_WINDOW, type MergeWindow, mergeSql, watermarkSql } from "../infra/curated-sql";
import { ICEBERG_CATALOG, type Trino } from "./trino";

/**
 * The curated table on Trino's Iceberg connector, and the curation's steps as the state machine runs
 * them on Athena (infra/curation.ts): watermark query, then the merge with that watermark.
 */

const TRINO_TYPES: Record<IcebergType, string> = {
  string: "varchar",
  double: "double",
  boolean: "boolean",
  timestamp: "timestamp(6)",
};

/**
 * Creates `events_curated` in `schema` at `<lakeDir>/curated/`, from the same columns and partition
 * spec as the Glue table of the template. Athena creates the Iceberg metadata from that Glue table;
 * Trino takes DDL, so the DDL is written from the definition here.
 */
export async function createCuratedTable(trino: Trino, schema: string, lakeDir: string): Promise<void> {
  const columns = CURATED_COLUMNS.map((c) => `"${c.name}" ${TRINO_TYPES[c.type]}`).join(", ");
  const partitioning = CURATED_PARTITIONING.map((p) =>
    p.transform === "identity" ? `'${p.column}'` : `'${p.transform}(${p.column})'`,
  ).join(", ");
  await trino.query(
    `CREATE TABLE ${ICEBERG_CATALOG}."${schema}"."${CURATED_TABLE}" (${columns}) WITH (format = 'PARQUET', ` +
      `format_version = 2, partitioning = ARRAY[${partitioning}], location = 'local:///${lakeDir}/curated')`,
  );
}

export interface MergeResult {
  readonly window: MergeWindow;
  /** Rows the merge inserted. */
  readonly inserted: number;
  /** Rows the merge read from its sources (raw lines and target). */
  readonly processedRows: number;
  /** Trino's id of the MERGE statement. */
  readonly queryId: string;
}

/** The next incremental merge's window, from the watermark query. */
export async function mergeWindow(trino: Trino, schema: string): Promise<MergeWindow> {
  const [watermark, fromDay] = (await trino.query(watermarkSql(schema), schema)).rows[0] as [string, string];
  return { watermark, fromDay };
}

/**
 * One curation run as the state machine does it: the watermark query, then the merge with its
 * answer; `full`: the weekly merge over every partition.
 */
export async function runMerge(trino: Trino, schema: string, full = false): Promise<MergeResult> {
  const window = full ? FULL_WINDOW : await mergeWindow(trino, schema);
  const merged = await trino.query(mergeSql(schema, window), schema);
  return {
    window,
    inserted: Number(merged.rows[0]?.[0]),
    processedRows: merged.processedRows,
    queryId: merged.queryId,
  };
}

/** Athena's `OPTIMIZE … REWRITE DATA USING BIN_PACK`, in Trino's syntax. */
export async function optimizeCurated(trino: Trino, schema: string): Promise<void> {
  await trino.query(`ALTER TABLE "${schema}"."${CURATED_TABLE}" EXECUTE optimize`, schema);
}

export interface KilledMerge {
  /** Rows the merge had read when it was stopped. */
  readonly processedRows: number;
  /** Trino's final state of the query: FAILED (cancelled), never FINISHED. */
  readonly state: string;
}

/**
 * Starts `sql` and cancels it once it runs, before it finishes, as Step Functions stops
 * an Athena query that outlives its task (or as a crash ends it). Throws if it finished first.
 */
export async function killMergeMidWay(trino: Trino, sql: string, schema: string): Promise<KilledMerge> {
  const headers = {
    "X-Trino-User": "monitor-lake",
    "X-Trino-Catalog": "awsdatacatalog",
    "X-Trino-Schema": schema,
  };
  type Response = { id: string; nextUri?: string; stats: { state: string; processedRows?: number } };
  let response = (await (
    await fetch(`${trino.url}/v1/statement`, { method: "POST", body: sql, headers })
  ).json()) as Response;
  let processedRows = 0;
  while (response.nextUri) {
    processedRows = response.stats.processedRows ?? 0;
    if (response.stats.state === "RUNNING") {
      await fetch(response.nextUri, { method: "DELETE", headers });
      break;
    }
    response = (await (await fetch(response.nextUri, { headers })).json()) as Response;
  }
  if (!response.nextUri)
    throw new Error(`the merge ended (${response.stats.state}) before it could be stopped`);
  let state = "RUNNING";
  for (const until = Date.now() + 30_000; Date.now() < until; ) {
    const info = (await (await fetch(`${trino.url}/v1/query/${response.id}`, { headers })).json()) as {
      state: string;
    };
    state = info.state;
    if (state === "FAILED" || state === "FINISHED") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { processedRows, state };
}

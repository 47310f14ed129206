import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** What a finished Trino query read, from its statistics (`GET /v1/query/<id>`). */
export interface QueryStats {
  /** Bytes read from storage (what Athena bills: compressed bytes, only the columns read). */
  readonly physicalInputBytes: number;
  /** Splits of the query's table scans: one per file here (see bench/curated.ts). */
  readonly splits: number;
}

const UNITS: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** Airlift's DataSize text (`"123B"`, `"4.56MB"`) in bytes. */
export function dataSizeBytes(text: unknown): number {
  const m = /^([\d.]+)([kMGT]?B)$/.exec(String(text));
  if (!m) throw new Error(`not a Trino data size: ${JSON.stringify(text)}`);
  return Number(m[1]) * (UNITS[m[2] as string] as number);
}

interface OperatorSummary {
  readonly operatorType: string;
  readonly totalDrivers: number;
}

const SCANS = new Set(["TableScanOperator", "ScanFilterAndProjectOperator"]);

export async function queryStats(url: string, queryId: string): Promise<QueryStats> {
  const response = await fetch(`${url}/v1/query/${queryId}`, { headers: { "X-Trino-User": "monitor-lake" } });
  if (!response.ok) throw new Error(`GET /v1/query/${queryId}: HTTP ${response.status}`);
  const info = (await response.json()) as {
    queryStats: { physicalInputDataSize: string; operatorSummaries: OperatorSummary[] };
  };
  const scans = info.queryStats.operatorSummaries.filter((o) => SCANS.has(o.operatorType));
  return {
    physicalInputBytes: dataSizeBytes(info.queryStats.physicalInputDataSize),
    splits: scans.reduce((n, o) => n + o.totalDrivers, 0),
  };
}

/** Files and bytes under `dir`. */
export function du(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return { files, bytes };
}

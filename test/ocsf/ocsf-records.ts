import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Trino } from "../../dev/trino";
import type { OcsfView } from "../../infra/ocsf-schema";
import { prestoTypeOf } from "../../infra/ocsf-types";

export type OcsfRecord = Record<string, unknown> & {
  readonly metadata: { readonly uid: string; readonly event_code?: string };
};

/** Every record of `view` as OCSF JSON (Trino casts the named row to a JSON object), `where` optional. */
export async function ocsfRecords(
  trino: Trino,
  schema: string,
  view: OcsfView,
  where = "true",
): Promise<OcsfRecord[]> {
  const names = view.columns.map((c) => `"${c.name}"`).join(", ");
  const types = view.columns.map((c) => `"${c.name}" ${prestoTypeOf(c.type)}`).join(", ");
  const { rows } = await trino.query(
    `SELECT json_format(CAST(CAST(ROW(${names}) AS ROW(${types})) AS JSON)) FROM ${view.name} WHERE ${where}`,
    schema,
  );
  return rows.map((r) => JSON.parse(String(r[0])) as OcsfRecord);
}

export interface ValidationResult {
  readonly validated: number;
  readonly errors: { line: number; class: string; uid: string; path: string; message: string }[];
}

const VALIDATOR = fileURLToPath(new URL("./validate-ocsf.py", import.meta.url));
const PYTHON = fileURLToPath(new URL("../../.venv/bin/python", import.meta.url));

/** Validates records against the OCSF 1.1.0 JSON Schema of their class (validate-ocsf.py, jsonschema). */
export function validateOcsf(items: readonly { class: string; record: unknown }[]): ValidationResult {
  const input = items.map((i) => JSON.stringify(i)).join("\n");
  const result = spawnSync(PYTHON, [VALIDATOR], { input, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`validate-ocsf.py failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout) as ValidationResult;
}

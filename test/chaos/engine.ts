import type { ChaosEnvironment } from "./chaos-env";
import { runCliScenario } from "./cli-scenario";
import { runHandlerScenario } from "./handler-scenario";
import { Random } from "./random";
import { passed, type ScenarioResult } from "./scenario-result";

/** Share of scenarios that run the CLI as child processes (slower: a process per run). */
const CLI_SHARE = 0.12;

/** Which harness a seed runs: a pure function of the seed. */
export function modeOf(seed: number): "handler" | "cli" {
  return new Random(seed ^ 0x5bd1e995).chance(CLI_SHARE) ? "cli" : "handler";
}

/** A scenario that has not ended by then is a failure (a run that never ends is a finding too). */
const SCENARIO_TIMEOUT_MS = 120_000;

export async function runScenario(seed: number, env: ChaosEnvironment): Promise<ScenarioResult> {
  const mode = modeOf(seed);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ScenarioResult>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          seed,
          mode,
          events: 0,
          invocations: 0,
          faults: {},
          failure: `did not finish within ${SCENARIO_TIMEOUT_MS / 1000} s`,
        }),
      SCENARIO_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([
      mode === "cli" ? runCliScenario(seed, env) : runHandlerScenario(seed, env),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ChaosReport {
  readonly scenarios: number;
  readonly byMode: Readonly<Record<string, number>>;
  readonly events: number;
  readonly invocations: number;
  readonly faults: Readonly<Record<string, number>>;
  readonly lost: number;
  readonly rawDuplicates: number;
  readonly altered: number;
  readonly unknown: number;
  readonly failures: readonly ScenarioResult[];
  readonly durationMs: number;
}

/** Runs the seeds, a few at a time, and sums up what they found. */
export async function runChaos(
  seeds: readonly number[],
  env: ChaosEnvironment,
  options: { readonly concurrency: number; readonly onResult?: (r: ScenarioResult) => void },
): Promise<ChaosReport> {
  const started = Date.now();
  const results: ScenarioResult[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < seeds.length) {
      const seed = seeds[next++] as number;
      const result = await runScenario(seed, env);
      results.push(result);
      options.onResult?.(result);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  const faults: Record<string, number> = {};
  const byMode: Record<string, number> = {};
  const sum = { events: 0, invocations: 0, lost: 0, rawDuplicates: 0, altered: 0, unknown: 0 };
  for (const r of results) {
    byMode[r.mode] = (byMode[r.mode] ?? 0) + 1;
    sum.events += r.events;
    sum.invocations += r.invocations;
    for (const [kind, n] of Object.entries(r.faults)) faults[kind] = (faults[kind] ?? 0) + n;
    if (r.check) {
      sum.lost += r.check.lost;
      sum.rawDuplicates += r.check.rawDuplicates;
      sum.altered += r.check.altered;
      sum.unknown += r.check.unknown;
    }
  }
  return {
    scenarios: results.length,
    byMode,
    ...sum,
    faults,
    failures: results.filter((r) => !passed(r)).sort((a, b) => a.seed - b.seed),
    durationMs: Date.now() - started,
  };
}

/** The report as printed by `npm run test:chaos` (and on a failing CI slice). */
export function formatReport(report: ChaosReport): string {
  const lines = [
    `chaos: ${report.scenarios} scenarios (${Object.entries(report.byMode)
      .map(([m, n]) => `${n} ${m}`)
      .join(
        ", ",
      )}), ${report.invocations} runs, ${report.events} source events, ${(report.durationMs / 1000).toFixed(0)} s`,
    "faults injected, by kind:",
    ...Object.entries(report.faults)
      .sort((a, b) => b[1] - a[1])
      .map(([kind, n]) => `  ${String(n).padStart(7)}  ${kind}`),
    `events lost: ${report.lost}`,
    `raw duplicates: ${report.rawDuplicates}`,
    `events not stored byte for byte: ${report.altered}; lines of unknown events: ${report.unknown}`,
    `failed scenarios: ${report.failures.length}`,
  ];
  for (const f of report.failures.slice(0, 20)) {
    const c = f.check;
    lines.push(
      `  seed ${f.seed} (${f.mode}): ${f.failure ?? ""}${
        c
          ? ` lost ${c.lost}, raw duplicates ${c.rawDuplicates}, altered ${c.altered}, unknown ${c.unknown}`
          : ""
      }`,
    );
    for (const example of c?.examples.slice(0, 3) ?? []) lines.push(`      ${example}`);
    lines.push(`      replay: npm run test:chaos -- --seed ${f.seed}`);
  }
  if (report.failures.length > 20) lines.push(`  ... and ${report.failures.length - 20} more`);
  return lines.join("\n");
}

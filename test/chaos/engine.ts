import type { ChaosEnvironment } from "./chaos-env";
import { ALL_CLASSES } from "./classes";
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
          classes: {},
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

/** Per fault class: scenarios that exercised it, their runs and source events, and how often it happened. */
export interface ClassCount {
  readonly scenarios: number;
  readonly runs: number;
  readonly events: number;
  readonly occurrences: number;
}

export interface ChaosReport {
  readonly scenarios: number;
  readonly byMode: Readonly<Record<string, number>>;
  readonly events: number;
  readonly invocations: number;
  readonly faults: Readonly<Record<string, number>>;
  readonly classes: Readonly<Record<string, ClassCount>>;
  readonly lost: number;
  /** Copies no documented rule allows (after recovery included). */
  readonly rawDuplicates: number;
  /** Copies the documented rules allow and events_dedup removes (lake-check.ts, viewDuplicates). */
  readonly viewDuplicates: number;
  readonly altered: number;
  readonly unknown: number;
  readonly wrongDay: number;
  readonly badNames: number;
  readonly keysOverwritten: number;
  readonly midRunSamples: number;
  readonly midRunViolations: number;
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
  return summarize(results, Date.now() - started);
}

export function summarize(results: readonly ScenarioResult[], durationMs: number): ChaosReport {
  const faults: Record<string, number> = {};
  const byMode: Record<string, number> = {};
  const classes: Record<string, { scenarios: number; runs: number; events: number; occurrences: number }> =
    {};
  for (const kind of ALL_CLASSES) classes[kind] = { scenarios: 0, runs: 0, events: 0, occurrences: 0 };
  const sum = {
    events: 0,
    invocations: 0,
    lost: 0,
    rawDuplicates: 0,
    viewDuplicates: 0,
    altered: 0,
    unknown: 0,
    wrongDay: 0,
    badNames: 0,
    keysOverwritten: 0,
    midRunSamples: 0,
    midRunViolations: 0,
  };
  for (const r of results) {
    byMode[r.mode] = (byMode[r.mode] ?? 0) + 1;
    sum.events += r.events;
    sum.invocations += r.invocations;
    for (const [kind, n] of Object.entries(r.faults)) faults[kind] = (faults[kind] ?? 0) + n;
    for (const [kind, n] of Object.entries(r.classes)) {
      if (n <= 0) continue;
      const c = classes[kind] ?? { scenarios: 0, runs: 0, events: 0, occurrences: 0 };
      classes[kind] = c;
      c.scenarios++;
      c.runs += r.invocations;
      c.events += r.events;
      c.occurrences += n;
    }
    const c = r.check;
    if (c) {
      sum.lost += c.lost;
      sum.rawDuplicates += c.rawDuplicates;
      sum.viewDuplicates += c.viewDuplicates;
      sum.altered += c.altered;
      sum.unknown += c.unknown;
      sum.wrongDay += c.wrongDay;
      sum.badNames += c.badNames;
      sum.keysOverwritten += c.keysOverwritten;
      sum.midRunSamples += c.midRun.samples;
      sum.midRunViolations += c.midRun.violations;
    }
  }
  return {
    scenarios: results.length,
    byMode,
    ...sum,
    faults,
    classes,
    failures: results.filter((r) => !passed(r)).sort((a, b) => a.seed - b.seed),
    durationMs,
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
    "fault classes (issue 16): scenarios that exercised each, their runs and source events, occurrences",
    `  ${"scenarios".padStart(9)} ${"runs".padStart(7)} ${"events".padStart(9)} ${"times".padStart(7)}  class`,
    ...Object.entries(report.classes).map(
      ([kind, c]) =>
        `  ${String(c.scenarios).padStart(9)} ${String(c.runs).padStart(7)} ${String(c.events).padStart(9)} ${String(c.occurrences).padStart(7)}  ${kind}`,
    ),
    "faults injected, by kind:",
    ...Object.entries(report.faults)
      .sort((a, b) => b[1] - a[1])
      .map(([kind, n]) => `  ${String(n).padStart(7)}  ${kind}`),
    "totals:",
    `  events lost: ${report.lost}`,
    `  raw duplicates (after recovery included; no documented rule allows them): ${report.rawDuplicates}`,
    `  events not stored byte for byte: ${report.altered}; lines of unknown events: ${report.unknown}`,
    `  keys overwritten with other content: ${report.keysOverwritten}`,
    `  events under the wrong dt: ${report.wrongDay}; objects misnamed: ${report.badNames}`,
    `  reads mid-run: ${report.midRunSamples}, lines seen that no reader may see: ${report.midRunViolations}`,
    `  documented duplicates events_dedup removes (beyond the id window, across a recovery): ${report.viewDuplicates}`,
    `failed scenarios: ${report.failures.length}`,
  ];
  for (const f of report.failures.slice(0, 20)) {
    const c = f.check;
    lines.push(
      `  seed ${f.seed} (${f.mode}): ${f.failure ?? ""}${
        c
          ? ` lost ${c.lost}, raw duplicates ${c.rawDuplicates}, altered ${c.altered}, unknown ${c.unknown}, ` +
            `wrong dt ${c.wrongDay}, misnamed ${c.badNames}, overwritten ${c.keysOverwritten}, mid-run ${c.midRun.violations}`
          : ""
      }; classes: ${Object.keys(f.classes).join(", ")}`,
    );
    for (const example of c?.examples.slice(0, 4) ?? []) lines.push(`      ${example}`);
    lines.push(`      replay: npm run test:chaos -- --seed ${f.seed}`);
  }
  if (report.failures.length > 20) lines.push(`  ... and ${report.failures.length - 20} more`);
  return lines.join("\n");
}

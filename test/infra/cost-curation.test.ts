import { readFile } from "node:fs/promises";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../infra/app";
import {
  CURATION_MEASURED,
  curationCostLines,
  curationFrom,
  transitionsPerRun,
} from "../../scripts/cost-curation";

const benchmarks = await readFile(new URL("../../BENCHMARKS.md", import.meta.url), "utf8");
const template = (context: Record<string, unknown> = {}) =>
  Template.fromStack(
    buildApp(
      new App({
        context: {
          integrationKey: "00000000-0000-0000-0000-000000000001",
          userId: "00000000-0000-0000-0000-000000000002",
          ...context,
        },
      }),
    ),
  ).toJSON() as Parameters<typeof curationFrom>[0];

const column = (lines: ReturnType<typeof curationCostLines>, i: number): number =>
  lines.reduce((sum, l) => sum + (l[i + 1] as number), 0);

describe("the curation's cost", () => {
  it("reads the curation's schedule from the template: hourly by default, 96 runs a day at 15 minutes", () => {
    expect(curationFrom(template()).runsPerDay).toBe(24);
    expect(curationFrom(template({ curationPeriodMinutes: "15" })).runsPerDay).toBe(96);
  });

  it("counts the states an execution enters from the state machine's definition", () => {
    // Plan, FullOrIncremental, Window, WindowResult, Merge, OptimizeToday, Done; + Optimize, VacuumThisWeek
    // at 00:00; Sundays FullWindow instead of Window and WindowResult, + Vacuum.
    expect(transitionsPerRun(3)).toEqual({ hourly: 7, daily: 9, weekly: 9 });
  });

  it("grows with the volume and with the number of merges a day", () => {
    const hourly = curationFrom(template());
    const lines = curationCostLines(hourly, () => 288, [1_000, 10_000_000]);
    expect(column(lines, 1)).toBeGreaterThan(column(lines, 0) * 10);
    const often = curationCostLines({ ...hourly, runsPerDay: 96 }, () => 288, [10_000_000]);
    expect(column(often, 0)).toBeGreaterThan(
      column(
        curationCostLines(hourly, () => 288, [10_000_000]),
        0,
      ) * 2,
    );
  });

  it("uses the bytes per event BENCHMARKS.md measured", () => {
    const section = benchmarks.slice(benchmarks.indexOf("## Curated table"));
    const figure = (label: string): number =>
      Number(new RegExp(`${label}[^|]*\\|\\s*([\\d.]+) B`).exec(section)?.[1]);
    expect(figure("merge bytes per raw event of its window")).toBe(
      CURATION_MEASURED.mergeBytesPerWindowEvent,
    );
    expect(figure("full merge bytes per raw event")).toBe(CURATION_MEASURED.fullMergeBytesPerEvent);
    expect(figure("curated bytes per event")).toBe(CURATION_MEASURED.curatedBytesPerEvent);
  });
});

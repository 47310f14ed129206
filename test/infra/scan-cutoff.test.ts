import { readFile } from "node:fs/promises";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { MonitorLake } from "../../infra/monitor-lake";
import {
  CURATED_SCAN_BYTES_PER_EVENT,
  DEFAULT_BYTES_SCANNED_CUTOFF,
  SIZING_DAYS,
  SIZING_EVENTS_PER_DAY,
} from "../../infra/scan-cutoff";

const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
const benchmarks = await readFile(new URL("../../BENCHMARKS.md", import.meta.url), "utf8");
const GiB = 1024 ** 3;
const required = {
  integrationKey: "11111111-2222-3333-4444-555555555555",
  userId: "66666666-7777-8888-9999-000000000000",
};
const cutoffOf = (bytesScannedCutoff?: number): unknown => {
  const stack = new Stack(new App(), "Cutoff");
  new MonitorLake(stack, "Lake", {
    ...required,
    detections: { enabled: false },
    ...(bytesScannedCutoff ? { bytesScannedCutoff } : {}),
  });
  const template = Template.fromStack(stack).toJSON() as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const workgroup = Object.values(template.Resources).find((r) => r.Type === "AWS::Athena::WorkGroup");
  const configuration = (workgroup?.Properties.WorkGroupConfiguration ?? {}) as {
    BytesScannedCutoffPerQuery?: unknown;
  };
  return configuration.BytesScannedCutoffPerQuery;
};

describe("the workgroup's scan cutoff", () => {
  it("by default lets a query read a year of events_curated at 10 million events a day, rounded up to a GiB", () => {
    const year = CURATED_SCAN_BYTES_PER_EVENT * SIZING_EVENTS_PER_DAY * SIZING_DAYS;
    expect([SIZING_EVENTS_PER_DAY, SIZING_DAYS]).toEqual([10_000_000, 365]);
    expect(DEFAULT_BYTES_SCANNED_CUTOFF).toBeGreaterThanOrEqual(year);
    expect(DEFAULT_BYTES_SCANNED_CUTOFF - GiB).toBeLessThan(year);
    expect(DEFAULT_BYTES_SCANNED_CUTOFF % GiB).toBe(0);
    expect(cutoffOf()).toBe(DEFAULT_BYTES_SCANNED_CUTOFF);
    expect(cutoffOf(20 * GiB)).toBe(20 * GiB);
  });

  it("is the figure the README states, from the bytes per event BENCHMARKS.md measured", () => {
    const gib = DEFAULT_BYTES_SCANNED_CUTOFF / GiB;
    expect(readme).toContain(`the workgroup stops queries that scan more than ${gib} GiB`);
    const curated = readme.slice(readme.indexOf("## The curated table"), readme.indexOf("## Development"));
    expect(curated).toContain(
      `${CURATED_SCAN_BYTES_PER_EVENT} bytes per event × 10 million events a day × 365 days, rounded up: ${gib} GiB`,
    );
    const measured = /most curated bytes a saved query reads per event of its days[^|]*\|\s*([\d.]+) B/.exec(
      benchmarks,
    );
    expect(measured?.[1]).toBeDefined();
    expect(Math.ceil(Number(measured?.[1]))).toBe(CURATED_SCAN_BYTES_PER_EVENT);
  });
});

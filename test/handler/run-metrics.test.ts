import { Metrics } from "@aws-lambda-powertools/metrics";
import { describe, expect, it } from "vitest";
import type { RunSummary } from "../../lambda/core/run-ingest";
import { RUN_METRICS, recordRunMetrics } from "../../lambda/handler/run-metrics";

const summary: RunSummary = {
  stream: "org1",
  events: 0,
  pages: 1,
  objects: 0,
  bytes: 0,
  cursor: "a",
  caughtUp: true,
  stoppedBy: "caught-up",
  durationMs: 5,
  startCursor: "a",
  days: [],
  duplicatesDropped: 2000,
  untimedEvents: 0,
  futureEvents: 0,
};

function emf(run: RunSummary): Record<string, unknown> {
  const metrics = new Metrics({ namespace: "MonitorLake", serviceName: "monitor-lake" });
  recordRunMetrics(metrics, { now: () => 0 }, run, { retries: 0, throttled: 0 });
  return metrics.serializeMetrics() as unknown as Record<string, unknown>;
}

describe("run metrics", () => {
  it("counts StreamNotAdvancing 1 for a run whose stream cannot advance, 0 otherwise", () => {
    expect(emf({ ...summary, notAdvancing: true }).StreamNotAdvancing).toBe(1);
    expect(emf(summary).StreamNotAdvancing).toBe(0);
  });

  it("publishes exactly the metrics RUN_METRICS lists (which the cost and the dashboard count on)", () => {
    const doc = emf(summary) as { _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } };
    const names = doc._aws.CloudWatchMetrics.flatMap((d) => d.Metrics.map((m) => m.Name));
    expect(names.sort()).toEqual([...RUN_METRICS].sort());
  });
});

import { Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";
import { streamMetric } from "./stream-metric";
import type { ResolvedStream } from "./stream-settings";

/**
 * The dashboard ("Dashboard"): the function's own health, then one row per stream, so that an
 * organization's trouble shows in its row. Detections add their row later.
 */
export function createDashboard(
  scope: Construct,
  fn: lambda.IFunction,
  streams: readonly ResolvedStream[],
): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, "Dashboard", {
    dashboardName: `monitor-lake-${Stack.of(scope).stackName}`,
  });
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: "Errors and throttles (all streams)",
      left: [fn.metricErrors(), fn.metricThrottles()],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: "Duration (ms, all streams)",
      left: [fn.metricDuration({ statistic: "Maximum" })],
      width: 12,
    }),
  );
  for (const s of streams) dashboard.addWidgets(...streamRow(s.id));
  return dashboard;
}

/**
 * A stream's row: every run metric the function publishes (lambda/handler/run-metrics.ts) is on it, so
 * that none is paid for (scripts/cost.ts) without being seen.
 */
function streamRow(stream: string): cloudwatch.IWidget[] {
  const line = (name: string, statistic: string, label = name) =>
    streamMetric(name, statistic, stream).with({ label });
  return [
    new cloudwatch.GraphWidget({
      title: `${stream}: events, objects and bytes stored`,
      left: [line("EventsIngested", "Sum"), line("ObjectsWritten", "Sum")],
      right: [line("BytesWritten", "Sum")],
      width: 6,
    }),
    new cloudwatch.GraphWidget({
      title: `${stream}: ingest lag (s) and share of runs caught up`,
      left: [line("IngestLagSeconds", "Maximum")],
      // 1 when every run of the period ended caught up; below 1 while a backlog drains.
      right: [line("CaughtUp", "Average", "CaughtUp (share of runs)")],
      rightYAxis: { min: 0, max: 1 },
      width: 6,
    }),
    new cloudwatch.GraphWidget({
      title: `${stream}: auth failures, lease conflicts, runs not advancing`,
      left: [line("AuthFailures", "Sum"), line("LeaseHeld", "Sum"), line("StreamNotAdvancing", "Sum")],
      width: 6,
    }),
    new cloudwatch.GraphWidget({
      title: `${stream}: DocuSign pages, retries and throttles`,
      left: [line("Retries", "Sum"), line("Throttled", "Sum")],
      right: [line("Pages", "Sum")],
      width: 6,
    }),
  ];
}

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

function streamRow(stream: string): cloudwatch.IWidget[] {
  const line = (name: string, statistic: string) =>
    streamMetric(name, statistic, stream).with({ label: name });
  return [
    new cloudwatch.GraphWidget({
      title: `${stream}: events and bytes per run`,
      left: [line("EventsIngested", "Sum")],
      right: [line("BytesWritten", "Sum")],
      width: 6,
    }),
    new cloudwatch.GraphWidget({
      title: `${stream}: ingest lag (s)`,
      left: [line("IngestLagSeconds", "Maximum")],
      width: 6,
    }),
    new cloudwatch.GraphWidget({
      title: `${stream}: auth failures and lease conflicts`,
      left: [line("AuthFailures", "Sum"), line("LeaseHeld", "Sum")],
      width: 6,
    }),
    new cloudwatch.GraphWidget({
      title: `${stream}: DocuSign retries and throttles`,
      left: [line("Retries", "Sum"), line("Throttled", "Sum")],
      width: 6,
    }),
  ];
}

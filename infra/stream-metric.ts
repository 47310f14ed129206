import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";

/** The namespace the function's run metrics go to (POWERTOOLS_METRICS_NAMESPACE). */
export const METRICS_NAMESPACE = "MonitorLake";

/** One of the function's per-stream run metrics (dimension `stream`), over 15 minutes. */
export function streamMetric(name: string, statistic: string, stream: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { stream },
    statistic,
    period: Duration.minutes(15),
  });
}

import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Clock } from "../core/ports";
import type { RunSummary } from "../core/run-ingest";

/** What the stream's DocuSign clients counted in this invocation. */
export interface ClientCounts {
  readonly retries: number;
  readonly throttled: number;
}

/**
 * The metrics every finished run publishes, once each, per stream (namespace MonitorLake, dimension
 * `stream`): each is a custom metric billed per stream (scripts/cost.ts), and each is on the dashboard
 * or an alarm (test/infra/stack.test.ts). The names are an interface: extend, never rename.
 */
export const RUN_METRICS = [
  "EventsIngested",
  "Pages",
  "ObjectsWritten",
  "BytesWritten",
  "Retries",
  "Throttled",
  "AuthFailures",
  "LeaseHeld",
  "CaughtUp",
  "StreamNotAdvancing",
  "IngestLagSeconds",
] as const;

/**
 * The EMF data points of a finished run, dimensioned by stream. IngestLagSeconds is how far the
 * newest stored event is behind now, 0 once caught up.
 */
export function recordRunMetrics(
  metrics: Metrics,
  clock: Clock,
  summary: RunSummary,
  counts: ClientCounts,
): void {
  const lagSeconds =
    summary.caughtUp || summary.newestEventTime === undefined
      ? 0
      : Math.max(0, (clock.now() - Date.parse(summary.newestEventTime)) / 1000);
  metrics.addMetric("EventsIngested", MetricUnit.Count, summary.events);
  metrics.addMetric("Pages", MetricUnit.Count, summary.pages);
  metrics.addMetric("ObjectsWritten", MetricUnit.Count, summary.objects);
  metrics.addMetric("BytesWritten", MetricUnit.Bytes, summary.bytes);
  metrics.addMetric("Retries", MetricUnit.Count, counts.retries);
  metrics.addMetric("Throttled", MetricUnit.Count, counts.throttled);
  metrics.addMetric("AuthFailures", MetricUnit.Count, 0);
  metrics.addMetric("LeaseHeld", MetricUnit.Count, 0);
  metrics.addMetric("CaughtUp", MetricUnit.Count, summary.caughtUp ? 1 : 0);
  // 1 when DocuSign keeps answering the cursor with events already stored: the stream cannot advance.
  metrics.addMetric("StreamNotAdvancing", MetricUnit.Count, summary.notAdvancing ? 1 : 0);
  metrics.addMetric("IngestLagSeconds", MetricUnit.Seconds, Math.round(lagSeconds));
}

/** Publishes what the invocation stored, or drops its dimensions when it stored nothing. */
export function flushRunMetrics(metrics: Metrics): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  else metrics.clearDimensions();
}

/**
 * The Lambda's side of detections: as each chunk commits, every match of its events becomes one structured log line
 * (for Logs Insights) and a count in the embedded-metric-format metric `RuleMatches`
 * (dimensions `stream`, `rule`), which the alarms of infra/detection-alarms.ts watch.
 *
 * A drained backlog must not page for last week: each data point carries the matched event's own
 * time (to the minute), not the ingest time, so an old burst lands in its own past periods, and the
 * alarms evaluate only the last hour (`DETECTION_LOOKBACK_MINUTES`). CloudWatch keeps EMF data points
 * up to 14 days old; older matches are logged but not counted.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { eventTime } from "../core/event-time";
import type { ChunkObserver, Clock } from "../core/ports";
import { ConfigError } from "../errors";
import { createMatcher, DETECTION_DEDUP_WINDOW, RecentIds } from "./match";
import { createDetectionObserver, type MatchRecord } from "./observer";
import {
  activeRules,
  checkDetectionSettings,
  DEFAULT_RULES,
  DETECTION_ENV,
  DETECTION_LOG_MESSAGE,
  DETECTION_METRIC,
  type Rule,
} from "./rules";

/** CloudWatch drops EMF data points older than 14 days; one hour is kept for log delivery. */
export const METRIC_MAX_AGE_MS = (14 * 24 - 1) * 3600_000;
/** CloudWatch drops data points more than 2 hours ahead; a skewed event time is counted at ingest time. */
export const METRIC_MAX_AHEAD_MS = 3600_000;

/**
 * The timestamp of the data point that counts a match: the event's own time to the minute; the ingest
 * time when the event has no time or one from the future; undefined (no data point) when CloudWatch
 * would drop it for being too old.
 */
export function metricTimestamp(eventMs: number | undefined, now: number): number | undefined {
  if (eventMs === undefined || eventMs > now + METRIC_MAX_AHEAD_MS) return Math.floor(now / 60_000) * 60_000;
  if (eventMs < now - METRIC_MAX_AGE_MS) return undefined;
  return Math.floor(eventMs / 60_000) * 60_000;
}

export interface EmitResult {
  /** EMF documents written: one per rule and minute of event time. */
  readonly dataPoints: number;
  /** Matches logged but too old to count in a metric. */
  readonly tooOld: number;
}

/** The metric counting detection failures (an event that could not be matched, a batch not reported). */
export const DETECTION_ERRORS_METRIC = "DetectionErrors";
/** Failures logged one by one per run; the rest are counted only. */
export const DETECTION_ERRORS_LOGGED = 10;

/** Writes the log line of every match and its data points. */
export function emitMatches(
  deps: { readonly logger: Logger; readonly metrics: Metrics; readonly clock: Clock },
  stream: string,
  matches: readonly MatchRecord[],
): EmitResult {
  const now = deps.clock.now();
  const buckets = new Map<string, { rule: Rule; timestamp: number; count: number }>();
  let tooOld = 0;
  for (const m of matches) {
    deps.logger.info(DETECTION_LOG_MESSAGE, { stream, ...m.fields });
    const timestamp = metricTimestamp(eventTime({ timestamp: m.fields.eventTime }, now), now);
    if (timestamp === undefined) {
      tooOld++;
      continue;
    }
    const key = `${m.rule.id}|${timestamp}`;
    const bucket = buckets.get(key);
    if (bucket) bucket.count++;
    else buckets.set(key, { rule: m.rule, timestamp, count: 1 });
  }
  if (buckets.size > 0) {
    // A single-metric instance publishes each data point at once, with its own timestamp and
    // dimensions; the run's stored metrics are untouched. singleMetric() brings back Powertools'
    // `service` dimension: the alarms watch (stream, rule) only.
    const single = deps.metrics.singleMetric();
    single.clearDefaultDimensions();
    for (const b of buckets.values()) {
      single.addDimensions({ stream, rule: b.rule.id });
      single.setTimestamp(b.timestamp);
      single.addMetric(DETECTION_METRIC, MetricUnit.Count, b.count);
    }
  }
  if (tooOld > 0)
    deps.logger.info("detections older than 14 days: logged, not counted in RuleMatches", { stream, tooOld });
  return { dataPoints: buckets.size, tooOld };
}

export interface LambdaDetections {
  /**
   * The chunk observer of one run of `stream`: matches counted and logged as their chunks commit.
   * Throws ConfigError when the settings are invalid.
   */
  observer(stream: string): ChunkObserver;
}

/**
 * Built once per container: settings from the environment (`DETECTION_ENV`), one window of committed
 * matched ids per stream that survives warm invocations.
 */
export function createLambdaDetections(deps: {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly rules?: readonly Rule[];
}): LambdaDetections {
  const rules = deps.rules ?? DEFAULT_RULES;
  const { settings, problems } = checkDetectionSettings(
    {
      allowedCountries: deps.env[DETECTION_ENV.allowedCountries],
      disabledRules: deps.env[DETECTION_ENV.disabledRules],
    },
    DETECTION_ENV,
    rules,
  );
  const active = activeRules(settings, rules);
  const matcher = createMatcher(active, settings);
  const windows = new Map<string, RecentIds>();
  return {
    observer(stream) {
      if (problems.length > 0) throw new ConfigError(problems);
      let seen = windows.get(stream);
      if (!seen) {
        seen = new RecentIds(DETECTION_DEDUP_WINDOW);
        windows.set(stream, seen);
      }
      let errors = 0;
      let logged = 0;
      const inner = createDetectionObserver({
        matcher,
        seen,
        onCommitted: (matches) => emitMatches(deps, stream, matches),
        onError: (failure) => {
          errors++;
          if (logged++ < DETECTION_ERRORS_LOGGED)
            deps.logger.warn("detection failed; the events are stored, ingestion goes on", {
              stream,
              stage: failure.stage,
              eventId: failure.eventId,
              error: failure.message,
            });
        },
      });
      return {
        accepted: (events) => inner.accepted(events),
        committed: () => {
          inner.committed();
          if (errors === 0) return;
          const single = deps.metrics.singleMetric();
          single.clearDefaultDimensions();
          single.addDimensions({ stream });
          single.addMetric(DETECTION_ERRORS_METRIC, MetricUnit.Count, errors);
          errors = 0;
        },
      };
    },
  };
}

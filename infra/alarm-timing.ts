/**
 * The time-based settings of the alarms, derived from a stream's schedule (the longest gap between two of
 * its runs) and the function's timeout, so that a healthy stream on any schedule has a data point in
 * every period and an idle one never pages. A run reports its metrics when it ends, at most `timeout`
 * after it started, so any window of `gap + timeout` holds the end of at least one run.
 */

/** CloudWatch allows periods of whole minutes; evaluation over a day needs whole hours. */
const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;
/** The shortest period of the stream alarms: short schedules keep the 15 minutes they always had. */
const MIN_PERIOD_SECONDS = 15 * MINUTE;
/** Lag up to this is normal after a pause (DocuSign's own lag, a redeploy): the old fixed threshold. */
const MIN_LAG_SECONDS = 2 * HOUR;
/** DocuSign makes events readable up to 5 minutes after they happen (monitor-api.md), plus a margin. */
const DOCUSIGN_LAG_MINUTES = 10;

export interface StreamAlarmTiming {
  /** The period of the stream's alarms: one run ends in every period of a healthy stream. */
  readonly periodSeconds: number;
  /** Runs that end in any one period at least (so every run in it found the lease held at this count). */
  readonly runsPerPeriod: number;
  /** Consecutive periods without a successful run, or with high lag, before the alarm pages. */
  readonly periods: number;
  /** IngestLagSeconds above this, at the end of runs in `periods` periods in a row, is falling behind. */
  readonly lagThresholdSeconds: number;
}

export const STALL_PERIODS = 3;

export function streamAlarmTiming(gapSeconds: number, timeoutSeconds: number): StreamAlarmTiming {
  const periodSeconds = alarmPeriod(Math.max(gapSeconds + timeoutSeconds, MIN_PERIOD_SECONDS), STALL_PERIODS);
  return {
    periodSeconds,
    runsPerPeriod: Math.max(1, Math.floor(periodSeconds / gapSeconds)),
    periods: STALL_PERIODS,
    lagThresholdSeconds: Math.max(MIN_LAG_SECONDS, 2 * gapSeconds + timeoutSeconds),
  };
}

export interface DurationAlarmTiming {
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  /** Two slow runs within the window, which holds two runs of the slowest-scheduled stream. */
  readonly datapointsToAlarm: number;
}

/** FunctionDurationHigh: two slow runs within a window that holds two runs of every stream. */
export function durationAlarmTiming(longestGapSeconds: number, timeoutSeconds: number): DurationAlarmTiming {
  const window = 2 * longestGapSeconds + timeoutSeconds;
  const periodSeconds = window <= DAY ? MIN_PERIOD_SECONDS : HOUR;
  return {
    periodSeconds,
    evaluationPeriods: Math.max(2, Math.ceil(window / periodSeconds)),
    datapointsToAlarm: 2,
  };
}

/**
 * How far back the detection alarms look: a stream's matches carry their events' own times and arrive up
 * to a gap, a run and DocuSign's lag late; CloudWatch never evaluates data points older than an alarm's
 * window. At least the detections' 60-minute default, at most their 1440.
 */
export function detectionLookbackMinutes(longestGapSeconds: number, timeoutSeconds: number): number {
  const minutes = Math.ceil((longestGapSeconds + timeoutSeconds) / MINUTE) + DOCUSIGN_LAG_MINUTES;
  return Math.min(1440, Math.max(60, minutes));
}

/** `seconds` rounded up to a period CloudWatch accepts for `periods` evaluation periods. */
function alarmPeriod(seconds: number, periods: number): number {
  const unit = seconds * periods > DAY ? HOUR : MINUTE;
  return Math.ceil(seconds / unit) * unit;
}

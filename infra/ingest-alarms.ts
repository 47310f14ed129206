import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { durationAlarmTiming, type StreamAlarmTiming, streamAlarmTiming } from "./alarm-timing";
import { runGapSeconds } from "./schedule-expression";
import { streamMetric } from "./stream-metric";
import type { ResolvedStream } from "./stream-settings";

export interface IngestAlarmsProps {
  readonly function: lambda.Function;
  readonly failureQueue: sqs.IQueue;
  readonly streams: readonly ResolvedStream[];
  readonly timeout: Duration;
  readonly alarmEmail?: string;
  readonly encryptionKey?: kms.IKey;
}

export interface IngestAlarms {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[];
}

/**
 * The alarm topic ("Alarms") and the ingester's health alarms: the function's errors, throttles and
 * duration, the on-failure queue, and per stream no successful run, lag, auth failures, lease
 * conflicts and a cursor that does not advance. Each alarm notifies the topic when it goes off and when it recovers (OK).
 */
export function createIngestAlarms(scope: Construct, props: IngestAlarmsProps): IngestAlarms {
  const topic = new sns.Topic(scope, "Alarms", {
    displayName: "monitor-lake alarms",
    enforceSSL: true,
    ...(props.encryptionKey ? { masterKey: props.encryptionKey } : {}),
  });
  if (props.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
  const alarms: cloudwatch.Alarm[] = [];
  const alarm = (id: string, alarmProps: cloudwatch.AlarmProps): void => {
    const a = new cloudwatch.Alarm(scope, id, alarmProps);
    a.addAlarmAction(new cwActions.SnsAction(topic));
    a.addOkAction(new cwActions.SnsAction(topic));
    alarms.push(a);
  };
  const fn = props.function;
  alarm("FunctionErrors", {
    alarmDescription:
      "Ingest runs failed. The function's log has the error: what failed, why, the fix and DocuSign's trace token.",
    metric: fn.metricErrors({ period: Duration.minutes(15) }),
    threshold: 1,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm("FunctionThrottles", {
    alarmDescription:
      "Invocations were throttled: the account's concurrency is exhausted or reserved concurrency is 0.",
    metric: fn.metricThrottles({ period: Duration.minutes(15) }),
    threshold: 1,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const duration = durationAlarmTiming(
    Math.max(...props.streams.map((s) => runGapSeconds(s.schedule))),
    props.timeout.toSeconds(),
  );
  alarm("FunctionDurationHigh", {
    alarmDescription:
      `Two runs within ${minutes(duration.periodSeconds * duration.evaluationPeriods)} used more than 80% of the ` +
      "timeout: raise the timeout (below the schedule period) or the memory.",
    metric: fn.metricDuration({ period: Duration.seconds(duration.periodSeconds), statistic: "Maximum" }),
    threshold: props.timeout.toMilliseconds() * 0.8,
    evaluationPeriods: duration.evaluationPeriods,
    datapointsToAlarm: duration.datapointsToAlarm,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm("FailedRunsQueued", {
    alarmDescription: "Failed invocations are in the on-failure queue: read the messages for the error.",
    metric: props.failureQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
    threshold: 1,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  for (const s of props.streams)
    for (const [id, alarmProps] of streamAlarms(
      s.id,
      streamAlarmTiming(runGapSeconds(s.schedule), props.timeout.toSeconds()),
    ))
      alarm(id, alarmProps);
  return { topic, alarms };
}

function minutes(seconds: number): string {
  const [h, m] = [Math.floor(seconds / 3600), Math.round((seconds % 3600) / 60)];
  return [h > 0 ? `${h} h` : "", m > 0 || h === 0 ? `${m} min` : ""].filter(Boolean).join(" ");
}

/**
 * A stream's alarms, timed by its schedule. "No successful run" and "lag" are two signals: a stuck or
 * failing stream stops reporting runs (missing data breaches), one that runs but falls behind reports a
 * growing lag, and an idle organization (at night) reports runs with lag 0 and pages nobody.
 */
function streamAlarms(stream: string, t: StreamAlarmTiming): Array<[string, cloudwatch.AlarmProps]> {
  const period = Duration.seconds(t.periodSeconds);
  const window = minutes(t.periodSeconds * t.periods);
  const metric = (name: string, statistic: string) => streamMetric(name, statistic, stream).with({ period });
  return [
    [
      `IngestionStalled-${stream}`,
      {
        alarmDescription: `Stream ${stream}: no successful run for ${window} (${t.periods} periods of ${minutes(t.periodSeconds)}, each longer than the schedule's longest gap plus the timeout; missing data breaches). Check FunctionErrors, AuthFailures, LeaseConflicts and the schedule.`,
        // Every successful run, idle or not, reports EventsIngested once: its sample count counts them.
        metric: metric("EventsIngested", "SampleCount"),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: t.periods,
        datapointsToAlarm: t.periods,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      },
    ],
    [
      `IngestLag-${stream}`,
      {
        alarmDescription: `Stream ${stream}: runs end behind DocuSign: the newest stored event was over ${minutes(t.lagThresholdSeconds)} old at the end of runs for ${window}. A large backlog (the first days) trips it until drained; an idle organization reports 0.`,
        metric: metric("IngestLagSeconds", "Maximum"),
        threshold: t.lagThresholdSeconds,
        evaluationPeriods: t.periods,
        datapointsToAlarm: t.periods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
    ],
    [
      `AuthFailures-${stream}`,
      {
        alarmDescription: `Stream ${stream}: DocuSign refused authentication (consent, key, user or role). The log names the fix.`,
        metric: metric("AuthFailures", "Sum"),
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
    ],
    [
      `LeaseConflicts-${stream}`,
      {
        alarmDescription: `Stream ${stream}: every run for ${window} found the lease held: runs overlap or a run hangs.`,
        metric: metric("LeaseHeld", "Sum"),
        threshold: t.runsPerPeriod,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: t.periods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
    ],
    [
      `StreamNotAdvancing-${stream}`,
      {
        alarmDescription: `Stream ${stream}: for ${window} DocuSign answered the stream's cursor with events already stored and the same cursor again: the stream cannot advance and stores nothing new (nothing is lost or stored twice). The function's log warning "is not advancing" names the cursor: report it to DocuSign support with the trace token of a run. It recovers by itself once DocuSign moves the cursor on.`,
        // Every run reports it, 1 when it could not advance: a lasting stall, not one odd page, pages.
        metric: metric("StreamNotAdvancing", "Maximum"),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: t.periods,
        datapointsToAlarm: t.periods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
    ],
  ];
}

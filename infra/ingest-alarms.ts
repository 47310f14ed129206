import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
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
 * duration, the on-failure queue, and per stream stalled ingestion, auth failures and lease conflicts.
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
  alarm("FunctionDurationHigh", {
    alarmDescription:
      "Runs use more than 80% of the timeout: raise the timeout (below the schedule period) or the memory.",
    metric: fn.metricDuration({ period: Duration.minutes(15), statistic: "Maximum" }),
    threshold: props.timeout.toMilliseconds() * 0.8,
    evaluationPeriods: 2,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm("FailedRunsQueued", {
    alarmDescription: "Failed invocations are in the on-failure queue: read the messages for the error.",
    metric: props.failureQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
    threshold: 1,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  for (const s of props.streams) {
    alarm(`IngestionStalled-${s.id}`, {
      alarmDescription: `Stream ${s.id}: the newest stored event is over 2 hours old, or no run reported for 45 minutes (missing data breaches).`,
      metric: streamMetric("IngestLagSeconds", "Maximum", s.id),
      threshold: 7200,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    alarm(`AuthFailures-${s.id}`, {
      alarmDescription: `Stream ${s.id}: DocuSign refused authentication (consent, key, user or role). The log names the fix.`,
      metric: streamMetric("AuthFailures", "Sum", s.id),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm(`LeaseConflicts-${s.id}`, {
      alarmDescription: `Stream ${s.id}: runs keep finding the lease held: runs overlap or a run hangs.`,
      metric: streamMetric("LeaseHeld", "Sum", s.id),
      threshold: 3,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
  return { topic, alarms };
}

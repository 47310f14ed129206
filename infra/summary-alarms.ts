import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type { Construct } from "constructs";
import type { ResolvedStream } from "./stream-settings";

/** Every alarm also notifies when it recovers, to the topics it notifies when it goes off. */
export function notifyRecovery(alarms: readonly cloudwatch.Alarm[]): void {
  for (const a of alarms) {
    const cfn = a.node.defaultChild as cloudwatch.CfnAlarm;
    cfn.okActions = cfn.alarmActions;
  }
}

export interface SummaryAlarmsProps {
  readonly streams: readonly ResolvedStream[];
  /** Every alarm of the construct: those of a stream (dimension `stream`) and the function-wide ones. */
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly alarmEmail?: string;
  readonly encryptionKey?: kms.IKey;
}

/**
 * Per stream one composite alarm ("Summary-<id>") that is in ALARM while any of the stream's alarms or
 * the function-wide ones is, notifying (and recovering on) its own topic ("SummaryAlarms"): one page
 * per stream instead of one per alarm.
 */
export function createSummaryAlarms(scope: Construct, props: SummaryAlarmsProps): sns.Topic {
  const topic = new sns.Topic(scope, "SummaryAlarms", {
    displayName: "monitor-lake summary alarms",
    enforceSSL: true,
    ...(props.encryptionKey ? { masterKey: props.encryptionKey } : {}),
  });
  if (props.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
  for (const s of props.streams) {
    const members = props.alarms.filter((a) => {
      const stream = streamOf(a);
      return stream === undefined || stream === s.id;
    });
    const summary = new cloudwatch.CompositeAlarm(scope, `Summary-${s.id}`, {
      alarmDescription:
        `Stream ${s.id}: one of its ${members.length} alarms (ingestion, detections and the function's) is in ALARM. ` +
        "The composite's history names which; each alarm's description says what to do.",
      alarmRule: cloudwatch.AlarmRule.anyOf(...members),
    });
    summary.addAlarmAction(new cwActions.SnsAction(topic));
    summary.addOkAction(new cwActions.SnsAction(topic));
  }
  return topic;
}

/** The `stream` dimension of an alarm's metric, if it has one. */
function streamOf(alarm: cloudwatch.Alarm): string | undefined {
  const dimensions = alarm.metric.toMetricConfig().metricStat?.dimensions ?? [];
  const value = dimensions.find((d) => d.name === "stream")?.value;
  return typeof value === "string" ? value : undefined;
}

import { Aws, Duration } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import * as targets from "aws-cdk-lib/aws-scheduler-targets";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { queueEncryption } from "./ingest-function";
import type { ResolvedStream } from "./stream-settings";

/**
 * One EventBridge Scheduler schedule per stream ("Schedule-<id>"), invoking the function with the stream
 * id only; undeliverable invocations go to the "ScheduleDeadLetters" queue.
 */
export function createSchedules(
  scope: Construct,
  fn: lambda.IFunction,
  streams: readonly ResolvedStream[],
  encryptionKey: kms.IKey | undefined,
): void {
  const deadLetters = new sqs.Queue(scope, "ScheduleDeadLetters", {
    ...queueEncryption(encryptionKey),
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const schedulerRole = new iam.Role(scope, "SchedulerRole", {
    assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com", {
      conditions: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
    }),
    description: "monitor-lake: lets EventBridge Scheduler invoke the ingester",
  });
  // Sending to the dead-letter queue encrypted with the customer key needs the key too.
  encryptionKey?.grant(schedulerRole, "kms:GenerateDataKey", "kms:Decrypt");
  for (const s of streams) {
    new scheduler.Schedule(scope, `Schedule-${s.id}`, {
      schedule: scheduler.ScheduleExpression.expression(s.schedule),
      description: `monitor-lake: ingest stream ${s.id}`,
      target: new targets.LambdaInvoke(fn, {
        // The stream id only: the function refuses anything else (its stream table has the settings).
        input: scheduler.ScheduleTargetInput.fromObject({ stream: s.id }),
        retryAttempts: 2,
        maxEventAge: Duration.minutes(10),
        deadLetterQueue: deadLetters,
        role: schedulerRole,
      }),
    });
  }
}

import { Aws, Duration, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as glue from "aws-cdk-lib/aws-glue";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as s3 from "aws-cdk-lib/aws-s3";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import * as targets from "aws-cdk-lib/aws-scheduler-targets";
import type * as sns from "aws-cdk-lib/aws-sns";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { NagSuppressions } from "cdk-nag";
import type { Construct } from "constructs";
import {
  CURATED_COLUMNS,
  CURATED_PARTITIONING,
  CURATED_PROPERTIES,
  CURATED_TABLE,
  LINES_TABLE,
  UNTIMED_LINES_TABLE,
} from "./curated-schema";
import { DEFAULT_LOOKBACK_DAYS } from "./curated-sql";
import { curationDefinition, type ExportDefinition } from "./curation-definition";
import { icebergTable } from "./iceberg-table";

/** Where the curated table keeps its Iceberg data and metadata files, under the lake's key prefix. */
export const CURATED_LOCATION = "curated/";

/** Minutes between merges: a divisor of an hour, so that the day's first run falls on 00:00 UTC. */
export const CURATION_PERIODS = [15, 20, 30, 60] as const;
export type CurationPeriod = (typeof CURATION_PERIODS)[number];

export interface CurationProps {
  readonly bucket: s3.IBucket;
  readonly prefix: string;
  readonly databaseName: string;
  readonly database: glue.Database;
  readonly workgroupName: string;
  readonly alarmTopic: sns.ITopic;
  /** @default 60 */
  readonly periodMinutes?: CurationPeriod;
  /** Raw days before the watermark's day an incremental merge reads. @default DEFAULT_LOOKBACK_DAYS */
  readonly lookbackDays?: number;
  readonly encryptionKey?: kms.IKey;
  /** With the prop `securityLake`: the export after each merge and what its queries need. */
  readonly export?: {
    readonly definition: ExportDefinition;
    readonly statements: readonly iam.PolicyStatement[];
    readonly dependencies: readonly Construct[];
  };
}

export interface Curation {
  readonly table: glue.CfnTable;
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: scheduler.Schedule;
  readonly alarms: cloudwatch.Alarm[];
}

/** The schedule's cron expression for a period: on the hour and every `period` minutes after. */
export function curationScheduleExpression(period: CurationPeriod): string {
  return period === 60 ? "cron(0 * * * ? *)" : `cron(0/${period} * * * ? *)`;
}

/**
 * The curated Iceberg table ("CuratedTable", Glue creates its metadata), the state machine that
 * keeps it ("Curation": merge every period, OPTIMIZE at 00:00 UTC, a full merge and VACUUM on
 * Sundays), its schedule ("CurationSchedule"), and two alarms to the topic: a run failed
 * ("CurationFailed"), no run succeeded in two periods ("CurationStale").
 */
export function createCuration(scope: Construct, props: CurationProps): Curation {
  const period = props.periodMinutes ?? 60;
  if (!(CURATION_PERIODS as readonly number[]).includes(period)) {
    throw new Error(`curationPeriodMinutes must be one of ${CURATION_PERIODS.join(", ")} (got ${period})`);
  }
  const table = createCuratedTable(scope, props);
  const role = new iam.Role(scope, "CurationRole", {
    assumedBy: new iam.ServicePrincipal("states.amazonaws.com"),
    description: "monitor-lake curation: runs the merge, OPTIMIZE and VACUUM of events_curated in Athena",
  });
  for (const statement of curationStatements(scope, props)) role.addToPolicy(statement);
  for (const statement of props.export?.statements ?? []) role.addToPolicy(statement);
  props.encryptionKey?.grantEncryptDecrypt(role);
  const stateMachine = new sfn.StateMachine(scope, "Curation", {
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromString(
      JSON.stringify(
        curationDefinition({
          database: props.databaseName,
          workgroup: props.workgroupName,
          lookbackDays: props.lookbackDays ?? DEFAULT_LOOKBACK_DAYS,
          ...(props.export ? { export: props.export.definition } : {}),
        }),
      ),
    ),
    role,
    timeout: Duration.hours(6),
    comment: "monitor-lake: merges new raw events into events_curated, then OPTIMIZE daily and VACUUM weekly",
  });
  stateMachine.node.addDependency(table, ...(props.export?.dependencies ?? []));
  // CDK adds an explicit DependsOn on the role that the RoleArn's GetAtt already implies.
  (stateMachine.node.defaultChild as sfn.CfnStateMachine).addMetadata("cfn-lint", {
    config: { ignore_checks: ["W3005"] },
  });
  NagSuppressions.addResourceSuppressions(
    role,
    [
      {
        id: "AwsSolutions-IAM5",
        reason:
          "Object keys under <prefix>events/ (read), <prefix>curated/ (Iceberg data and metadata files) and " +
          "<prefix>athena-results/: Athena writes new, unpredictable keys.",
      },
    ],
    true,
  );
  NagSuppressions.addResourceSuppressions(stateMachine, [
    {
      id: "AwsSolutions-SF1",
      reason:
        "Step Functions keeps every execution's history, each state's input, output and error, for 90 days; " +
        "CurationFailed alarms on failures. Log delivery would need IAM actions on Resource '*'.",
    },
    {
      id: "AwsSolutions-SF2",
      reason: "Four Athena queries in a row: the execution history shows each one's duration and query id.",
    },
  ]);
  const schedulerRole = new iam.Role(scope, "CurationSchedulerRole", {
    assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com", {
      conditions: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
    }),
    description: "monitor-lake: lets EventBridge Scheduler start the curation state machine",
  });
  const schedule = new scheduler.Schedule(scope, "CurationSchedule", {
    schedule: scheduler.ScheduleExpression.expression(curationScheduleExpression(period)),
    description: `monitor-lake: merge new events into ${CURATED_TABLE} every ${period} minutes`,
    target: new targets.StepFunctionsStartExecution(stateMachine, {
      // The tick's own time decides the daily and weekly work, whenever the run starts.
      input: scheduler.ScheduleTargetInput.fromObject({
        scheduledTime: scheduler.ContextAttribute.scheduledTime,
      }),
      role: schedulerRole,
      retryAttempts: 2,
      maxEventAge: Duration.minutes(period),
    }),
  });
  const alarms = curationAlarms(scope, stateMachine, period, props.alarmTopic);
  return { table, stateMachine, schedule, alarms };
}

function createCuratedTable(scope: Construct, props: CurationProps): glue.CfnTable {
  return icebergTable(scope, "CuratedTable", {
    databaseName: props.databaseName,
    database: props.database,
    name: CURATED_TABLE,
    description:
      "Each DocuSign Monitor event once, typed, with its exact line (Iceberg, kept by the curation)",
    location: `s3://${props.bucket.bucketName}/${props.prefix}${CURATED_LOCATION}`,
    columns: CURATED_COLUMNS,
    partitioning: CURATED_PARTITIONING,
    properties: CURATED_PROPERTIES,
  });
}

/** Least privilege: this workgroup, these tables, the lake's raw objects (read) and curated/ (read, write). */
function curationStatements(scope: Construct, props: CurationProps): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const glueArn = (resource: string, name?: string): string =>
    stack.formatArn({ service: "glue", resource, ...(name ? { resourceName: name } : {}) });
  const tables = ["events", LINES_TABLE, UNTIMED_LINES_TABLE, CURATED_TABLE].map((t) =>
    glueArn("table", `${props.databaseName}/${t}`),
  );
  return [
    new iam.PolicyStatement({
      actions: [
        "athena:StartQueryExecution",
        "athena:GetQueryExecution",
        "athena:GetQueryResults",
        "athena:StopQueryExecution",
      ],
      resources: [
        stack.formatArn({ service: "athena", resource: "workgroup", resourceName: props.workgroupName }),
      ],
    }),
    new iam.PolicyStatement({
      actions: ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"],
      resources: [glueArn("catalog"), glueArn("database", props.databaseName), ...tables],
    }),
    new iam.PolicyStatement({
      actions: ["s3:GetBucketLocation", "s3:ListBucket"],
      resources: [props.bucket.bucketArn],
    }),
    new iam.PolicyStatement({
      actions: ["s3:GetObject"],
      resources: [props.bucket.arnForObjects(`${props.prefix}events/*`)],
    }),
    // Iceberg data and metadata files; DeleteObject for VACUUM and OPTIMIZE's removed files.
    new iam.PolicyStatement({
      actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
      resources: [
        props.bucket.arnForObjects(`${props.prefix}${CURATED_LOCATION}*`),
        props.bucket.arnForObjects(`${props.prefix}athena-results/*`),
      ],
    }),
  ];
}

function curationAlarms(
  scope: Construct,
  stateMachine: sfn.StateMachine,
  period: number,
  topic: sns.ITopic,
): cloudwatch.Alarm[] {
  const every = Duration.minutes(period);
  const failed = new cloudwatch.Alarm(scope, "CurationFailed", {
    alarmDescription:
      "A curation run failed, timed out or was stopped: its execution in the Step Functions console names the " +
      "Athena query and its error. The next run merges what this one did not (a merge inserts nothing twice).",
    metric: new cloudwatch.MathExpression({
      expression: "failed + timedOut + aborted",
      usingMetrics: {
        failed: stateMachine.metricFailed({ period: every }),
        timedOut: stateMachine.metricTimedOut({ period: every }),
        aborted: stateMachine.metricAborted({ period: every }),
      },
      period: every,
    }),
    threshold: 1,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const stale = new cloudwatch.Alarm(scope, "CurationStale", {
    alarmDescription:
      `No curation run succeeded in two periods (${2 * period} minutes): events_curated lags the raw lake. ` +
      "Check the CurationFailed alarm and the schedule.",
    metric: stateMachine.metricSucceeded({ period: every, statistic: "Sum" }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    evaluationPeriods: 2,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  });
  for (const a of [failed, stale]) {
    a.addAlarmAction(new cwActions.SnsAction(topic));
    a.addOkAction(new cwActions.SnsAction(topic));
  }
  return [failed, stale];
}

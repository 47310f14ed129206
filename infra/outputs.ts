import { Aws, CfnOutput } from "aws-cdk-lib";
import type * as athena from "aws-cdk-lib/aws-athena";
import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as glue from "aws-cdk-lib/aws-glue";
import type * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { consentUrl, DEFAULT_REDIRECT_URI, defaultOAuthUrl } from "../lambda/docusign/docusign-endpoints";
import type { ResolvedStream } from "./stream-settings";

export interface OutputsProps {
  readonly bucket: s3.IBucket;
  /** Retained by `cdk destroy` like the lake: named so that they can be found and removed (README). */
  readonly accessLogs: s3.IBucket;
  readonly queryResults: s3.IBucket;
  readonly table: dynamodb.ITable;
  readonly streams: readonly ResolvedStream[];
  readonly secrets: ReadonlyMap<string, secretsmanager.ISecret>;
  readonly logGroup: logs.ILogGroup;
  readonly workgroup: athena.CfnWorkGroup;
  readonly database: glue.Database;
  readonly dashboard: cloudwatch.Dashboard;
  readonly analystsPolicy: iam.IManagedPolicy;
  readonly function: lambda.IFunction;
  readonly failureQueue: sqs.IQueue;
  readonly summaryTopic?: sns.ITopic;
}

/**
 * The stack outputs: what a user copies after `cdk deploy` (README, "Stack outputs"). Their logical ids
 * are fixed to these names (`stableOutputIds`), so the names the README gives are the template's.
 */
export function createOutputs(scope: Construct, props: OutputsProps): void {
  const output = (id: string, description: string, value: string): void => {
    new CfnOutput(scope, id, { description, value });
  };
  output(
    "BucketName",
    "The lake bucket: events under <prefix>events/stream=<id>/dt=<day>/",
    props.bucket.bucketName,
  );
  output(
    "AccessLogsBucketName",
    "The lake's server-access-log bucket (retained by cdk destroy)",
    props.accessLogs.bucketName,
  );
  output(
    "QueryResultsBucketName",
    "Where the workgroup writes query results, expiring (retained by cdk destroy)",
    props.queryResults.bucketName,
  );
  output(
    "StateTableName",
    "The DynamoDB table holding each stream's cursor, lease and attempt",
    props.table.tableName,
  );
  // Per stream; the first stream's outputs keep the names of a one-stream deployment.
  props.streams.forEach((s, i) => {
    const suffix = i === 0 ? "" : s.id.replace(/[^A-Za-z0-9]/g, "");
    const secretArn = (props.secrets.get(s.id) as secretsmanager.ISecret).secretArn;
    const who = props.streams.length === 1 ? "" : `Stream ${s.id}: `;
    output(
      `PrivateKeySecretArn${suffix}`,
      `${who}the secret holding the private key of integration key ${s.integrationKey}`,
      secretArn,
    );
    output(
      `StorePrivateKeyCommand${suffix}`,
      `${who}run once with the private key file of integration key ${s.integrationKey}`,
      `aws secretsmanager put-secret-value --secret-id ${secretArn} --secret-string file://private.pem`,
    );
    output(
      `ConsentUrl${suffix}`,
      `${who}open once, signed in as user ${s.userId} (the redirect URI must be registered on the key)`,
      consentUrl(defaultOAuthUrl(s.environment), s.integrationKey, s.redirectUri ?? DEFAULT_REDIRECT_URI),
    );
  });
  output(
    "FunctionName",
    `The ingester; run one stream once by hand: aws lambda invoke --function-name <this> --cli-binary-format raw-in-base64-out --payload '{"stream":"${(props.streams[0] as ResolvedStream).id}"}' out.json`,
    props.function.functionName,
  );
  output(
    "FailedRunsQueueUrl",
    "Failed invocations (alarm FailedRunsQueued): aws sqs receive-message --queue-url <this> shows the error",
    props.failureQueue.queueUrl,
  );
  output(
    "LogGroupName",
    "The ingester's log group (JSON logs: runs, errors with their fix, detections)",
    props.logGroup.logGroupName,
  );
  output(
    "AthenaWorkGroup",
    "The Athena workgroup with the saved queries (results expire after 30 days)",
    props.workgroup.name,
  );
  output(
    "AthenaDatabase",
    "The Glue database: table events and the view events_dedup",
    props.database.databaseName,
  );
  if (props.summaryTopic)
    output(
      "SummaryTopicArn",
      "SNS topic of the per-stream summary alarms (summaryAlarms): subscribe here for one page per stream",
      props.summaryTopic.topicArn,
    );
  output(
    "DashboardUrl",
    "The CloudWatch dashboard: the function's health and one row per stream",
    `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${props.dashboard.dashboardName}`,
  );
  output(
    "AnalystsPolicyArn",
    "Attach to analysts' roles, users or groups: runs the saved queries in AthenaWorkGroup",
    props.analystsPolicy.managedPolicyArn,
  );
}

/**
 * Gives every output in the construct (detections' too) its construct id as its logical id, instead of
 * a path with a hash: `StorePrivateKeyCommand`, not `MonitorLakeStorePrivateKeyCommandA5B71309`. One
 * MonitorLake per stack (its database, workgroup and dashboard are named after the stack anyway).
 */
export function stableOutputIds(scope: Construct): void {
  for (const c of scope.node.findAll()) if (c instanceof CfnOutput) c.overrideLogicalId(c.node.id);
}

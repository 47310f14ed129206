import { Aws, CfnOutput } from "aws-cdk-lib";
import type * as athena from "aws-cdk-lib/aws-athena";
import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as glue from "aws-cdk-lib/aws-glue";
import type * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type * as sns from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import { consentUrl, DEFAULT_REDIRECT_URI, defaultOAuthUrl } from "../lambda/docusign/docusign-endpoints";
import type { ResolvedStream } from "./stream-settings";

export interface OutputsProps {
  readonly bucket: s3.IBucket;
  readonly table: dynamodb.ITable;
  readonly streams: readonly ResolvedStream[];
  readonly secrets: ReadonlyMap<string, secretsmanager.ISecret>;
  readonly logGroup: logs.ILogGroup;
  readonly workgroup: athena.CfnWorkGroup;
  readonly database: glue.Database;
  readonly dashboard: cloudwatch.Dashboard;
  readonly summaryTopic?: sns.ITopic;
}

/** The stack outputs: what a user copies after `cdk deploy` (README, "Deploy"). */
export function createOutputs(scope: Construct, props: OutputsProps): void {
  new CfnOutput(scope, "BucketName", { value: props.bucket.bucketName });
  new CfnOutput(scope, "StateTableName", { value: props.table.tableName });
  // Per stream; the first stream's outputs keep the names of a one-stream deployment.
  props.streams.forEach((s, i) => {
    const suffix = i === 0 ? "" : s.id.replace(/[^A-Za-z0-9]/g, "");
    const secretArn = (props.secrets.get(s.id) as secretsmanager.ISecret).secretArn;
    const who = props.streams.length === 1 ? "" : `Stream ${s.id}: `;
    new CfnOutput(scope, `PrivateKeySecretArn${suffix}`, {
      description: `${who}the secret holding the private key of integration key ${s.integrationKey}`,
      value: secretArn,
    });
    new CfnOutput(scope, `StorePrivateKeyCommand${suffix}`, {
      description: `${who}run once with the private key file of integration key ${s.integrationKey}`,
      value: `aws secretsmanager put-secret-value --secret-id ${secretArn} --secret-string file://private.pem`,
    });
    new CfnOutput(scope, `ConsentUrl${suffix}`, {
      description: `${who}open once, signed in as user ${s.userId} (the redirect URI must be registered on the key)`,
      value: consentUrl(
        defaultOAuthUrl(s.environment),
        s.integrationKey,
        s.redirectUri ?? DEFAULT_REDIRECT_URI,
      ),
    });
  });
  new CfnOutput(scope, "LogGroupName", { value: props.logGroup.logGroupName });
  new CfnOutput(scope, "AthenaWorkGroup", { value: props.workgroup.name });
  new CfnOutput(scope, "AthenaDatabase", { value: props.database.databaseName });
  if (props.summaryTopic)
    new CfnOutput(scope, "SummaryTopicArn", {
      description:
        "SNS topic of the per-stream summary alarms (summaryAlarms): subscribe here for one page per stream",
      value: props.summaryTopic.topicArn,
    });
  new CfnOutput(scope, "DashboardUrl", {
    value: `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${props.dashboard.dashboardName}`,
  });
}

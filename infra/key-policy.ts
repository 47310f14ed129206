import { Annotations, Aws, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import type { Construct } from "constructs";

/**
 * The key-policy statements that let AWS services use the lake's customer-managed key on its behalf:
 * CloudWatch Logs encrypts the function's log group, CloudWatch alarms publish to the encrypted SNS
 * topic. (S3, DynamoDB and Secrets Manager act with the caller's own grants, which IAM policies give.)
 * An imported key's policy cannot be changed from here: a warning names what to add.
 */
export function keyPolicyForServices(scope: Construct, key: kms.IKey): void {
  const region = Stack.of(scope).region;
  const statements = [
    new iam.PolicyStatement({
      sid: "MonitorLakeCloudWatchLogs",
      principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
      actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      resources: ["*"],
      conditions: {
        ArnLike: {
          "kms:EncryptionContext:aws:logs:arn": `arn:${Aws.PARTITION}:logs:${region}:${Aws.ACCOUNT_ID}:log-group:*`,
        },
      },
    }),
    new iam.PolicyStatement({
      sid: "MonitorLakeCloudWatchAlarmsToSns",
      principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
      actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
      resources: ["*"],
    }),
  ];
  const added = statements.map((statement) => key.addToResourcePolicy(statement, true).statementAdded);
  if (added.some((ok) => !ok)) {
    Annotations.of(scope).addWarningV2(
      "monitor-lake:imported-key-policy",
      "encryptionKey is imported, so its key policy cannot be extended here. Add statements letting " +
        `logs.${region}.amazonaws.com (Encrypt*, Decrypt*, ReEncrypt*, GenerateDataKey*, Describe*) and ` +
        "cloudwatch.amazonaws.com (Decrypt, GenerateDataKey*) use it, or the log group and alarm topic fail.",
    );
  }
}

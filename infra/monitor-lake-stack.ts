import { CfnOutput, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import * as kms from "aws-cdk-lib/aws-kms";
import { NagSuppressions } from "cdk-nag";
import type { Construct } from "constructs";
import { MonitorLake, type MonitorLakeProps } from "./monitor-lake";

export interface MonitorLakeStackProps extends StackProps {
  readonly lake: MonitorLakeProps;
  /**
   * `"new"`: create a customer-managed KMS key (rotated yearly, retained) for the lake; a key ARN:
   * use that key. Either becomes the construct's `encryptionKey`. @default no customer-managed key
   */
  readonly encryptionKey?: string;
}

/** The deployable stack: the MonitorLake construct plus the reasons for each accepted cdk-nag finding. */
export class MonitorLakeStack extends Stack {
  readonly lake: MonitorLake;
  readonly encryptionKey: kms.IKey | undefined;

  constructor(scope: Construct, id: string, props: MonitorLakeStackProps) {
    super(scope, id, props);
    this.encryptionKey =
      props.encryptionKey === undefined
        ? undefined
        : props.encryptionKey === "new"
          ? new kms.Key(this, "LakeKey", {
              description:
                "monitor-lake: encrypts the lake bucket, state table, key secret, logs and alarm topic",
              enableKeyRotation: true,
              removalPolicy: RemovalPolicy.RETAIN,
            })
          : kms.Key.fromKeyArn(this, "LakeKey", props.encryptionKey);
    if (this.encryptionKey instanceof kms.Key)
      new CfnOutput(this, "EncryptionKeyArn", {
        description: "The customer-managed key created with -c encryptionKey=new (retained by cdk destroy)",
        value: this.encryptionKey.keyArn,
      });
    this.lake = new MonitorLake(this, "MonitorLake", {
      ...props.lake,
      ...(this.encryptionKey ? { encryptionKey: this.encryptionKey } : {}),
    });
    NagSuppressions.addResourceSuppressions(
      this.lake,
      [
        {
          id: "AwsSolutions-IAM5",
          reason:
            "Wildcards are object keys under <prefix>events/ (each run writes new, unpredictable keys) and in the " +
            "query-results bucket (Athena names each result), the imported secret's random ARN suffix, " +
            "lakeformation:GetDataAccess (which takes no resource), and CDK's own grants for the log group, " +
            "alarms and schedule targets.",
        },
        {
          id: "AwsSolutions-S1",
          reason: "This is the server-access-log bucket itself; logging it into itself would loop.",
        },
        {
          id: "AwsSolutions-SMG4",
          reason:
            "The secret holds the RSA key of a DocuSign integration: it is rotated by generating a new key pair in " +
            "DocuSign and storing it, which Secrets Manager rotation cannot do. The function rereads it every 5 minutes.",
        },
        {
          id: "AwsSolutions-SQS3",
          reason:
            "These queues are themselves dead-letter / on-failure queues; an alarm watches the on-failure queue.",
        },
        {
          id: "AwsSolutions-SNS2",
          reason:
            "Only without a customer-managed key (-c encryptionKey): alarm notifications carry no event data, and " +
            "TLS is enforced. With the key the topic is encrypted with it.",
        },
      ],
      true,
    );
  }
}

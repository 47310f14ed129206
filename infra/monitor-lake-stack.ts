import { Stack, type StackProps } from "aws-cdk-lib";
import { NagSuppressions } from "cdk-nag";
import type { Construct } from "constructs";
import { MonitorLake, type MonitorLakeProps } from "./monitor-lake";

/** The deployable stack: the MonitorLake construct plus the reasons for each accepted cdk-nag finding. */
export class MonitorLakeStack extends Stack {
  readonly lake: MonitorLake;

  constructor(scope: Construct, id: string, props: StackProps & { readonly lake: MonitorLakeProps }) {
    super(scope, id, props);
    this.lake = new MonitorLake(this, "MonitorLake", props.lake);
    NagSuppressions.addResourceSuppressions(
      this.lake,
      [
        {
          id: "AwsSolutions-IAM5",
          reason:
            "Wildcards are object keys under <prefix>events/ (each run writes new, unpredictable keys), the imported " +
            "secret's random ARN suffix, and CDK's own grants for the log group, alarms and schedule targets.",
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
            "Alarm notifications carry no event data; SSE with a customer key would need a key policy for CloudWatch. TLS is enforced.",
        },
      ],
      true,
    );
  }
}

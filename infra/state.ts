import { RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as kms from "aws-cdk-lib/aws-kms";
import type { Construct } from "constructs";

/** The state table (one item per stream: cursor, lease, attempt), retained; construct id "State". */
export function createStateTable(scope: Construct, encryptionKey: kms.IKey | undefined): dynamodb.Table {
  return new dynamodb.Table(scope, "State", {
    partitionKey: { name: "streamId", type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    ...(encryptionKey
      ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey }
      : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

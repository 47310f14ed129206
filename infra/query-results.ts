import { Duration, RemovalPolicy } from "aws-cdk-lib";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";

export interface QueryResultsProps {
  /** Encrypts the results (bucket default and the workgroup's result encryption). @default SSE-S3 */
  readonly encryptionKey?: kms.IKey;
  /** Where the bucket's server access logs go (prefix "athena-results/"). */
  readonly accessLogs: s3.IBucket;
  /** Days a result (and any older version of it) is kept. */
  readonly expirationDays: number;
}

/**
 * Athena's query results in a bucket of their own ("QueryResults"), not in the lake: results are
 * copies of events, so they expire (current and noncurrent versions), are never under the lake's
 * Object Lock, and are encrypted with the customer key when one is given. Retained when the stack is
 * deleted (CloudFormation cannot delete a bucket that is not empty), under a generated name so that
 * it never blocks a new deployment, and its lifecycle still empties it.
 */
export function createQueryResults(scope: Construct, props: QueryResultsProps): s3.Bucket {
  return new s3.Bucket(scope, "QueryResults", {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    ...(props.encryptionKey
      ? { encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
      : { encryption: s3.BucketEncryption.S3_MANAGED }),
    // Versioned like every bucket here (an overwritten result stays recoverable), for a day only.
    versioned: true,
    serverAccessLogsBucket: props.accessLogs,
    serverAccessLogsPrefix: "athena-results/",
    lifecycleRules: [
      {
        id: "expire-results",
        expiration: Duration.days(props.expirationDays),
        noncurrentVersionExpiration: Duration.days(1),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

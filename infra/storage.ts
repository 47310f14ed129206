import { Duration, RemovalPolicy } from "aws-cdk-lib";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";
import type { MonitorLakeProps } from "./monitor-lake-props";

export interface StorageProps {
  readonly prefix: string;
  readonly encryptionKey?: kms.IKey;
  readonly objectLock?: MonitorLakeProps["objectLock"];
  readonly retentionDays?: number;
}

export interface Storage {
  readonly lake: s3.Bucket;
  readonly accessLogs: s3.Bucket;
}

/**
 * The lake bucket and its server-access-log bucket, both retained. Created in `scope` (the MonitorLake
 * construct) with the ids "AccessLogs" and "Lake", which an existing stack's logical ids depend on.
 */
export function createStorage(scope: Construct, props: StorageProps): Storage {
  const accessLogs = new s3.Bucket(scope, "AccessLogs", {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    // S3 server access logging delivers only to SSE-S3 buckets, so never the customer key here.
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    // Versioned so that an overwritten or deleted log stays recoverable for 30 days.
    versioned: true,
    lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const lake = new s3.Bucket(scope, "Lake", {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    ...(props.encryptionKey
      ? { encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
      : { encryption: s3.BucketEncryption.S3_MANAGED }),
    versioned: true,
    serverAccessLogsBucket: accessLogs,
    serverAccessLogsPrefix: "lake/",
    ...objectLockSettings(props.objectLock),
    lifecycleRules: [
      {
        id: "events",
        prefix: `${props.prefix}events/`,
        noncurrentVersionExpiration: Duration.days(30),
        transitions: [
          { storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(30) },
        ],
        ...(props.retentionDays ? { expiration: Duration.days(props.retentionDays) } : {}),
      },
      // The curated Iceberg table's files: those OPTIMIZE rewrites and VACUUM removes stay as old
      // versions in the versioned bucket; Iceberg never reads them again, so they expire.
      {
        id: "curated",
        prefix: `${props.prefix}curated/`,
        noncurrentVersionExpiration: Duration.days(7),
      },
      // Where query results went before they had their own bucket (query-results.ts): they still expire.
      {
        id: "athena-results",
        prefix: `${props.prefix}athena-results/`,
        expiration: Duration.days(30),
        noncurrentVersionExpiration: Duration.days(1),
      },
      { id: "incomplete-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  return { lake, accessLogs };
}

function objectLockSettings(lock: MonitorLakeProps["objectLock"]): Partial<s3.BucketProps> {
  if (!lock) return {};
  return {
    objectLockEnabled: true,
    objectLockDefaultRetention:
      lock.mode === "COMPLIANCE"
        ? s3.ObjectLockRetention.compliance(Duration.days(lock.days))
        : s3.ObjectLockRetention.governance(Duration.days(lock.days)),
  };
}

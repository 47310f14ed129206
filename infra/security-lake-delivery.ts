/**
 * The delivery function of the Security Lake export (infra/security-lake.ts): after each merge the
 * curation's Map hands it one unit of exported OCSF objects from the staging prefix, which it writes
 * under its custom source's own prefix of the Security Lake bucket. Also the one factory both
 * functions of lambda/security-lake/handler.ts are built with.
 */
import { fileURLToPath } from "node:url";
import { Aws, Duration, RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import type { ExportSource, SecurityLakeProps } from "./security-lake";
import { STAGING_PREFIX } from "./security-lake-options";

/** The delivery function and the staging location it reads. */
export interface Delivery {
  readonly deliverFunction: nodejs.NodejsFunction;
  readonly stagingUrl: string;
}

/** The ARN of a source's objects in the Security Lake bucket `bucket`: everything under `ext/<source>/`. */
export function sourceObjectsArn(bucket: string, source: ExportSource): string {
  return `arn:${Aws.PARTITION}:s3:::${bucket}/ext/${source.sourceName}/*`;
}

/**
 * The function that delivers exported units: it reads the staging prefix of the results bucket and
 * writes (and deletes a repeated unit's own objects) only under each source's prefix of `bucket`.
 */
export function createDelivery(
  scope: Construct,
  props: SecurityLakeProps,
  sources: readonly ExportSource[],
  bucket: string,
): Delivery {
  const deliverFunction = securityLakeFunction(
    scope,
    "SecurityLakeDeliver",
    "deliverUnit",
    "delivers exported OCSF objects to Security Lake",
    props,
  );
  const stagingUrl = `s3://${props.results.bucketName}/${STAGING_PREFIX}`;
  deliverFunction.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["s3:ListBucket"],
      resources: [props.results.bucketArn],
      conditions: { StringLike: { "s3:prefix": [`${STAGING_PREFIX}*`] } },
    }),
  );
  deliverFunction.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["s3:GetObject"],
      resources: [props.results.arnForObjects(`${STAGING_PREFIX}*`)],
    }),
  );
  deliverFunction.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["s3:ListBucket"],
      resources: [`arn:${Aws.PARTITION}:s3:::${bucket}`],
      conditions: { StringLike: { "s3:prefix": sources.map((s) => `ext/${s.sourceName}/*`) } },
    }),
  );
  // Write only under each source's own prefix: puts and the deletes of a repeated unit's own objects.
  deliverFunction.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["s3:PutObject", "s3:DeleteObject"],
      resources: sources.map((s) => sourceObjectsArn(bucket, s)),
    }),
  );
  props.encryptionKey?.grantDecrypt(deliverFunction);
  if (props.options.kmsKeyArn)
    deliverFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["kms:GenerateDataKey", "kms:Decrypt"],
        resources: [props.options.kmsKeyArn],
      }),
    );
  return { deliverFunction, stagingUrl };
}

/** A function of lambda/security-lake/handler.ts: `handler` is its export (`onEvent`, `deliverUnit`). */
export function securityLakeFunction(
  scope: Construct,
  id: string,
  handler: string,
  what: string,
  props: SecurityLakeProps,
): nodejs.NodejsFunction {
  const key = props.encryptionKey;
  return new nodejs.NodejsFunction(scope, id, {
    entry: fileURLToPath(new URL("../lambda/security-lake/handler.ts", import.meta.url)),
    handler,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    timeout: Duration.minutes(5),
    loggingFormat: lambda.LoggingFormat.JSON,
    logGroup: logGroup(scope, `${id}Logs`, key),
    ...(key ? { environmentEncryption: key } : {}),
    // One at a time: one custom resource; the export's Map delivers one unit at a time.
    ...(props.reservedConcurrency ? { reservedConcurrentExecutions: 1 } : {}),
    description: `monitor-lake: ${what}`,
    bundling: { minify: true, keepNames: true, sourceMap: true, target: "node24" },
  });
}

/** A month of logs, encrypted with `key` when given, deleted with the stack. */
export function logGroup(scope: Construct, id: string, key: kms.IKey | undefined): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    retention: logs.RetentionDays.ONE_MONTH,
    ...(key ? { encryptionKey: key } : {}),
    removalPolicy: RemovalPolicy.DESTROY,
  });
}

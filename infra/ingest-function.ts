import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { ENV } from "../lambda/config";
import { defaultOAuthUrl } from "../lambda/docusign/docusign-endpoints";
import { rateLimitItemKey, rateLimitScope } from "../lambda/docusign/rate-limit-scope";
import type { KeySecrets } from "./key-secrets";
import {
  environmentBytes,
  functionStreamTable,
  LAMBDA_ENVIRONMENT_LIMIT_BYTES,
  type ResolvedStream,
} from "./stream-settings";

export interface IngestFunctionProps {
  readonly streams: readonly ResolvedStream[];
  readonly bucket: s3.IBucket;
  readonly prefix: string;
  readonly table: dynamodb.ITable;
  readonly secrets: KeySecrets;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly reservedConcurrency: boolean;
  readonly logRetention: logs.RetentionDays;
  readonly encryptionKey?: kms.IKey;
}

export interface IngestFunction {
  readonly function: nodejs.NodejsFunction;
  readonly logGroup: logs.LogGroup;
  /** Failed invocations (on-failure destination). */
  readonly failureQueue: sqs.Queue;
}

/** SQS encryption of the lake's queues: their messages carry payloads and error messages. */
export function queueEncryption(
  key: kms.IKey | undefined,
): Pick<sqs.QueueProps, "encryption" | "encryptionMasterKey"> {
  return key
    ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key }
    : { encryption: sqs.QueueEncryption.SQS_MANAGED };
}

/**
 * The ingester: its on-failure queue, log group, role (least privilege) and function, in `scope` with the
 * ids "FailedRuns", "Logs", "FunctionRole" and "Ingester".
 */
export function createIngestFunction(scope: Construct, props: IngestFunctionProps): IngestFunction {
  // Failed invocations carry the payload and the error message: the customer key, when given.
  const failureQueue = new sqs.Queue(scope, "FailedRuns", {
    ...queueEncryption(props.encryptionKey),
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const logGroup = new logs.LogGroup(scope, "Logs", {
    retention: props.logRetention,
    ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const role = new iam.Role(scope, "FunctionRole", {
    assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
    description: "monitor-lake ingester: its log group, its objects, its state items and its key secret",
  });
  logGroup.grantWrite(role);
  const fn = new nodejs.NodejsFunction(scope, "Ingester", {
    entry: fileURLToPath(new URL("../lambda/handler/handler.ts", import.meta.url)),
    handler: "handler",
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    role,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    ...(props.encryptionKey ? { environmentEncryption: props.encryptionKey } : {}),
    // One per stream: a long run of one organization never throttles another's schedule.
    ...(props.reservedConcurrency ? { reservedConcurrentExecutions: props.streams.length } : {}),
    retryAttempts: 0,
    onFailure: new SqsDestination(failureQueue),
    description: "monitor-lake: copies DocuSign Monitor events into the lake",
    environment: functionEnvironment(scope, props),
    // keepNames: error classes keep their names (ConfigError, DocuSignError) in logs and Lambda's errorType.
    bundling: { minify: true, keepNames: true, sourceMap: true, target: "node24" },
  });
  grantIngest(role, props);
  validateEnvironmentSize(scope, fn, props.streams.length);
  return { function: fn, logGroup, failureQueue };
}

function functionEnvironment(scope: Construct, props: IngestFunctionProps): Record<string, string> {
  const first = props.streams[0] as ResolvedStream;
  const secretArns = new Map([...props.secrets.byStream].map(([id, sec]) => [id, sec.secretArn]));
  return {
    // The first stream's settings; the stream table holds what the others change.
    [ENV.docusignEnv]: first.environment,
    [ENV.integrationKey]: first.integrationKey,
    [ENV.userId]: first.userId,
    [ENV.privateKeySecret]: secretArns.get(first.id) as string,
    [ENV.bucket]: props.bucket.bucketName,
    [ENV.keyPrefix]: props.prefix,
    [ENV.stateTable]: props.table.tableName,
    [ENV.stream]: first.id,
    [ENV.streams]: Stack.of(scope).toJsonString(functionStreamTable(props.streams, secretArns)),
    ...(first.redirectUri ? { [ENV.redirectUri]: first.redirectUri } : {}),
    POWERTOOLS_SERVICE_NAME: "monitor-lake",
    POWERTOOLS_METRICS_NAMESPACE: "MonitorLake",
  };
}

/**
 * Least privilege: objects under events/ only (puts are create-only; GetObject lets a refused create
 * check by HeadObject whether the key holds its own bytes or a fence; DeleteObject clears a failed
 * attempt's object before fencing its key; ListBucket under events/ for recover), its stream items only,
 * its secrets only.
 */
function grantIngest(role: iam.Role, props: IngestFunctionProps): void {
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ["s3:PutObject", "s3:DeleteObject", "s3:GetObject"],
      resources: [props.bucket.arnForObjects(`${props.prefix}events/*`)],
    }),
  );
  // recover ({"recover": true}) lists the stream's objects to rebuild a corrupt or lost state item.
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ["s3:ListBucket"],
      resources: [props.bucket.bucketArn],
      conditions: { StringLike: { "s3:prefix": [`${props.prefix}events/*`] } },
    }),
  );
  // Objects are written (encrypt); state items and the secret are read and written (decrypt too).
  props.encryptionKey?.grantEncryptDecrypt(role);
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
      resources: [props.table.tableArn],
      conditions: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": stateItemKeys(props.streams) } },
    }),
  );
  // Exactly the streams' secrets (an imported one by name: its ARN ends in a random suffix).
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ["secretsmanager:GetSecretValue"],
      resources: [...new Set(props.secrets.byStream.values())].map((sec) =>
        props.secrets.imported.has(sec) ? `${sec.secretArn}-??????` : sec.secretArn,
      ),
    }),
  );
}

/**
 * The state items the function writes: each stream's, and the rate-limit item of each integration key
 * and account (lambda/docusign/rate-limit-scope.ts), which streams of one account share.
 */
function stateItemKeys(streams: readonly ResolvedStream[]): string[] {
  const rateLimitItems = streams.map((s) =>
    rateLimitItemKey(
      rateLimitScope({
        oauthUrl: defaultOAuthUrl(s.environment),
        integrationKey: s.integrationKey,
        userId: s.userId,
      }),
    ),
  );
  return [...streams.map((s) => s.id), ...new Set(rateLimitItems)];
}

/** The stream table travels in the function's environment: fail the synth, not the deploy, past 4 KB. */
function validateEnvironmentSize(scope: Construct, fn: lambda.Function, streamCount: number): void {
  scope.node.addValidation({
    validate: () => {
      const cfn = fn.node.defaultChild as lambda.CfnFunction;
      const resolved = Stack.of(scope).resolve(cfn.environment) as { variables?: Record<string, unknown> };
      const bytes = environmentBytes(resolved.variables ?? {});
      return bytes <= LAMBDA_ENVIRONMENT_LIMIT_BYTES
        ? []
        : [
            `The function's environment would be about ${bytes} bytes with ${streamCount} streams, over ` +
              `Lambda's ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}: deploy the streams in several stacks ` +
              "(-c stackName=... with part of -c streams each), or give them the construct's shared " +
              "integrationKey, environment and keySecretName so that each entry holds less.",
          ];
    },
  });
}

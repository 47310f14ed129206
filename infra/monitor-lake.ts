import { fileURLToPath } from "node:url";
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Token } from "aws-cdk-lib";
import * as athena from "aws-cdk-lib/aws-athena";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as glue from "aws-cdk-lib/aws-glue";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import * as targets from "aws-cdk-lib/aws-scheduler-targets";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { ENV } from "../lambda/config";
import { consentUrl, DEFAULT_REDIRECT_URI, defaultOAuthUrl } from "../lambda/docusign/docusign-endpoints";
import { dedupViewSql, EVENT_FIELDS, EVENTS_LINES, hiveType, VIEW_COLUMNS } from "./athena-schema";
import { athenaViewTableInput } from "./athena-view";
import { DetectionAlarms, type DetectionOptions } from "./detection-alarms";
import { keyPolicyForServices } from "./key-policy";
import { SAVED_QUERIES } from "./saved-queries";
import {
  environmentBytes,
  functionStreamTable,
  LAMBDA_ENVIRONMENT_LIMIT_BYTES,
  type MonitorStream,
  type ResolvedStream,
  resolveStreams,
} from "./stream-settings";

export type { MonitorStream } from "./stream-settings";

export interface MonitorLakeProps {
  /** DocuSign integration key (GUID); the default of every stream. @default none: each stream names its own */
  readonly integrationKey?: string;
  /**
   * GUID of the impersonated Organization Administrator or Security Reports Administrator; the default
   * of every stream. @default none: each stream names its own
   */
  readonly userId?: string;
  /** The default of every stream. @default "demo" */
  readonly environment?: "demo" | "production";
  /**
   * Streams to ingest: one per DocuSign organization, each with its own schedule, key secret, alarms and
   * dashboard row; a field a stream leaves out takes the construct's. The function serves only these.
   * @default one stream "default" on the legacy lens API
   */
  readonly streams?: readonly MonitorStream[];
  /** EventBridge Scheduler expression; the default of every stream. @default "rate(5 minutes)" */
  readonly schedule?: string;
  /** Email address subscribed to the alarm topic. @default no subscription */
  readonly alarmEmail?: string;
  /** A redirect URI registered on the integration key, used in consent URLs. @default DocuSign's consent walkthrough page */
  readonly redirectUri?: string;
  /** Import this existing secret (name) for every stream that names none. @default a new secret per stream */
  readonly keySecretName?: string;
  /** Delete events after this many days. @default keep forever */
  readonly retentionDays?: number;
  /** Object Lock for tamper-evident retention; only on a new bucket. @default none */
  readonly objectLock?: { readonly mode: "GOVERNANCE" | "COMPLIANCE"; readonly days: number };
  /**
   * A customer-managed KMS key for everything that stores data: the bucket (with S3 bucket keys), the
   * state table, the key secret (when created here), the function's log group and the alarm topic.
   * The construct adds the key-policy statements CloudWatch Logs and CloudWatch alarms need to a key
   * defined in the same app; for an imported key it warns, and those statements must be added to the
   * key's policy by hand (README, "Security").
   * @default AWS-owned or AWS-managed keys (SSE-S3, DynamoDB and Secrets Manager defaults, unencrypted logs and topic)
   */
  readonly encryptionKey?: kms.IKey;
  /** Prefix of everything the lake writes in the bucket; empty or ending in "/". @default "" */
  readonly keyPrefix?: string;
  /** @default 512 */
  readonly memorySize?: number;
  /** Keep it under the schedule period. @default 5 minutes */
  readonly timeout?: Duration;
  /**
   * Reserve one concurrent execution per stream, so that streams never wait for each other. Turn off for
   * accounts with a small concurrency quota: the DynamoDB lease still protects. @default true
   */
  readonly reservedConcurrency?: boolean;
  /** First `dt` of the Athena partition projection. @default "2020-01-01" */
  readonly projectionStart?: string;
  /** Athena stops a query after scanning this many bytes. @default 10 GiB */
  readonly bytesScannedCutoff?: number;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Detection rules, their alarms, topics and queries (infra/detection-alarms.ts). @default every default rule */
  readonly detections?: DetectionOptions;
}

/** monitor-lake in one construct: the scheduled ingester, the lake, Athena, alarms and a dashboard. */
export class MonitorLake extends Construct {
  readonly bucket: s3.Bucket;
  readonly table: dynamodb.Table;
  /** The first stream's key secret. */
  readonly secret: secretsmanager.ISecret;
  /** Each stream's key secret, by stream id (streams naming the same existing secret share it). */
  readonly secrets: ReadonlyMap<string, secretsmanager.ISecret>;
  /** The streams with every default applied. */
  readonly streams: readonly ResolvedStream[];
  readonly function: nodejs.NodejsFunction;
  readonly alarmTopic: sns.Topic;
  readonly database: glue.Database;
  readonly workgroup: athena.CfnWorkGroup;
  readonly failureQueue: sqs.Queue;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitorLakeProps) {
    super(scope, id);
    const prefix = props.keyPrefix ?? "";
    const streams = resolveStreams(props.streams ?? [{ id: "default" }], props);
    this.streams = streams;
    const first = streams[0] as ResolvedStream;
    const timeout = props.timeout ?? Duration.minutes(5);
    const stack = Stack.of(this);

    // --- Storage ---------------------------------------------------------------------------------
    const accessLogs = new s3.Bucket(this, "AccessLogs", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // S3 server access logging delivers only to SSE-S3 buckets, so never the customer key here.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Versioned so that an overwritten or deleted log stays recoverable for 30 days.
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new s3.Bucket(this, "Lake", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      ...(props.encryptionKey
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: "lake/",
      ...(props.objectLock
        ? {
            objectLockEnabled: true,
            objectLockDefaultRetention:
              props.objectLock.mode === "COMPLIANCE"
                ? s3.ObjectLockRetention.compliance(Duration.days(props.objectLock.days))
                : s3.ObjectLockRetention.governance(Duration.days(props.objectLock.days)),
          }
        : {}),
      lifecycleRules: [
        {
          id: "events",
          prefix: `${prefix}events/`,
          noncurrentVersionExpiration: Duration.days(30),
          transitions: [
            { storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(30) },
          ],
          ...(props.retentionDays ? { expiration: Duration.days(props.retentionDays) } : {}),
        },
        { id: "athena-results", prefix: `${prefix}athena-results/`, expiration: Duration.days(30) },
        { id: "incomplete-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table = new dynamodb.Table(this, "State", {
      partitionKey: { name: "streamId", type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(props.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // One secret per stream; the first keeps the construct id "PrivateKey" of one-stream deployments.
    const secrets = new Map<string, secretsmanager.ISecret>();
    const imported = new Map<string, secretsmanager.ISecret>();
    streams.forEach((s, i) => {
      const id = i === 0 ? "PrivateKey" : `PrivateKey-${s.id}`;
      if (s.keySecretName) {
        const existing =
          imported.get(s.keySecretName) ?? secretsmanager.Secret.fromSecretNameV2(this, id, s.keySecretName);
        imported.set(s.keySecretName, existing);
        secrets.set(s.id, existing);
        return;
      }
      const secret = new secretsmanager.Secret(this, id, {
        description:
          `monitor-lake stream ${s.id}: the RSA private key (PEM, PKCS#1 or PKCS#8) of DocuSign integration key ` +
          `${s.integrationKey}. Created empty: store it with aws secretsmanager put-secret-value.`,
        ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      // Without SecretString and GenerateSecretString CloudFormation creates the secret empty: no random value.
      (secret.node.defaultChild as secretsmanager.CfnSecret).addPropertyDeletionOverride(
        "GenerateSecretString",
      );
      secrets.set(s.id, secret);
    });
    this.secrets = secrets;
    this.secret = secrets.get(first.id) as secretsmanager.ISecret;

    // --- The ingester ------------------------------------------------------------------------------
    // Failed invocations carry the payload and the error message: the customer key, when given.
    const queueEncryption = props.encryptionKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };
    this.failureQueue = new sqs.Queue(this, "FailedRuns", {
      ...queueEncryption,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    if (props.encryptionKey) keyPolicyForServices(this, props.encryptionKey);
    const logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, "FunctionRole", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: "monitor-lake ingester: its log group, its objects, its state items and its key secret",
    });
    logGroup.grantWrite(role);
    this.function = new nodejs.NodejsFunction(this, "Ingester", {
      entry: fileURLToPath(new URL("../lambda/handler/handler.ts", import.meta.url)),
      handler: "handler",
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      ...(props.encryptionKey ? { environmentEncryption: props.encryptionKey } : {}),
      // One per stream: a long run of one organization never throttles another's schedule.
      ...(props.reservedConcurrency === false ? {} : { reservedConcurrentExecutions: streams.length }),
      retryAttempts: 0,
      onFailure: new SqsDestination(this.failureQueue),
      description: "monitor-lake: copies DocuSign Monitor events into the lake",
      environment: {
        // The first stream's settings; the stream table holds what the others change.
        [ENV.docusignEnv]: first.environment,
        [ENV.integrationKey]: first.integrationKey,
        [ENV.userId]: first.userId,
        [ENV.privateKeySecret]: this.secret.secretArn,
        [ENV.bucket]: this.bucket.bucketName,
        [ENV.keyPrefix]: prefix,
        [ENV.stateTable]: this.table.tableName,
        [ENV.stream]: first.id,
        [ENV.streams]: stack.toJsonString(
          functionStreamTable(streams, new Map([...secrets].map(([id, sec]) => [id, sec.secretArn]))),
        ),
        ...(first.redirectUri ? { [ENV.redirectUri]: first.redirectUri } : {}),
        POWERTOOLS_SERVICE_NAME: "monitor-lake",
        POWERTOOLS_METRICS_NAMESPACE: "MonitorLake",
      },
      // keepNames: error classes keep their names (ConfigError, DocuSignError) in logs and Lambda's errorType.
      bundling: { minify: true, keepNames: true, sourceMap: true, target: "node24" },
    });
    // Least privilege: objects under events/ only (DeleteObject clears a failed attempt's objects, which the
    // state recorded before writing), its stream items only, its secret only.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["s3:PutObject", "s3:DeleteObject"],
        resources: [this.bucket.arnForObjects(`${prefix}events/*`)],
      }),
    );
    // Objects are written (encrypt); state items and the secret are read and written (decrypt too).
    props.encryptionKey?.grantEncryptDecrypt(role);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        resources: [this.table.tableArn],
        conditions: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": streams.map((s) => s.id) } },
      }),
    );
    // Exactly the streams' secrets (an imported one by name: its ARN ends in a random suffix).
    const importedSecrets = new Set(imported.values());
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["secretsmanager:GetSecretValue"],
        resources: [...new Set(secrets.values())].map((sec) =>
          importedSecrets.has(sec) ? `${sec.secretArn}-??????` : sec.secretArn,
        ),
      }),
    );
    // The stream table travels in the function's environment: fail the synth, not the deploy, past 4 KB.
    this.node.addValidation({
      validate: () => {
        const cfn = this.function.node.defaultChild as lambda.CfnFunction;
        const resolved = stack.resolve(cfn.environment) as { variables?: Record<string, unknown> };
        const bytes = environmentBytes(resolved.variables ?? {});
        return bytes <= LAMBDA_ENVIRONMENT_LIMIT_BYTES
          ? []
          : [
              `The function's environment would be about ${bytes} bytes with ${streams.length} streams, over ` +
                `Lambda's ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}: deploy the streams in several stacks ` +
                "(-c stackName=... with part of -c streams each), or give them the construct's shared " +
                "integrationKey, environment and keySecretName so that each entry holds less.",
            ];
      },
    });

    const deadLetters = new sqs.Queue(this, "ScheduleDeadLetters", {
      ...queueEncryption,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const schedulerRole = new iam.Role(this, "SchedulerRole", {
      assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
      }),
      description: "monitor-lake: lets EventBridge Scheduler invoke the ingester",
    });
    // Sending to the dead-letter queue encrypted with the customer key needs the key too.
    props.encryptionKey?.grant(schedulerRole, "kms:GenerateDataKey", "kms:Decrypt");
    for (const s of streams) {
      new scheduler.Schedule(this, `Schedule-${s.id}`, {
        schedule: scheduler.ScheduleExpression.expression(s.schedule),
        description: `monitor-lake: ingest stream ${s.id}`,
        target: new targets.LambdaInvoke(this.function, {
          // The stream id only: the function refuses anything else (its stream table has the settings).
          input: scheduler.ScheduleTargetInput.fromObject({ stream: s.id }),
          retryAttempts: 2,
          maxEventAge: Duration.minutes(10),
          deadLetterQueue: deadLetters,
          role: schedulerRole,
        }),
      });
    }

    // --- Athena ------------------------------------------------------------------------------------
    // The name is fixed here, not read back from the Database (a Ref token at synth): the view's
    // base64 JSON and the saved queries embed it, and a token inside base64 can never be resolved.
    const databaseName = `monitor_lake_${stack.stackName.toLowerCase().replace(/[^a-z0-9]+/g, "_")}`;
    if (Token.isUnresolved(databaseName)) {
      throw new Error(
        "MonitorLake needs a stack with a concrete name (not a token): the Athena view embeds the database name.",
      );
    }
    this.database = new glue.Database(this, "Database", {
      databaseName,
      description: "DocuSign Monitor events (monitor-lake)",
    });
    const dtProjection = {
      dt: glue.PartitionProjectionConfiguration.date({
        min: props.projectionStart ?? "2020-01-01",
        max: "NOW",
        format: "yyyy-MM-dd",
        step: { interval: 1, intervalUnit: glue.DateIntervalUnit.DAYS },
      }),
    };
    const events = new glue.S3Table(this, "Events", {
      database: this.database,
      tableName: "events",
      description: "DocuSign Monitor events as received, one gzipped NDJSON object per chunk and day",
      storage: glue.S3TableStorage.fromBucket(this.bucket),
      s3Prefix: `${prefix}events/`,
      dataFormat: glue.DataFormat.JSON,
      columns: EVENT_FIELDS.map((f) => ({
        name: f.name.toLowerCase(),
        type: glue.Schema.custom(hiveType(f.type)),
      })),
      partitionKeys: [{ name: "dt", type: glue.Schema.STRING }],
      partitionProjection: dtProjection,
      compressed: true,
    });
    // OpenX SerDe: JSON keys are matched case-insensitively (eventId -> eventid) and `data`, an object,
    // is read into its string column as JSON text (on Athena with its keys lower-cased: the view reads
    // events_lines instead).
    const cfnEvents = events.node.defaultChild as glue.CfnTable;
    cfnEvents.addPropertyOverride("TableInput.StorageDescriptor.SerdeInfo.Parameters", {
      "case.insensitive": "TRUE",
      "ignore.malformed.json": "FALSE",
      "dots.in.keys": "FALSE",
    });
    const lines = new glue.S3Table(this, "EventsLines", {
      database: this.database,
      tableName: EVENTS_LINES.table,
      description: "Every stored line as it is (the exact NDJSON text), one row per line",
      storage: glue.S3TableStorage.fromBucket(this.bucket),
      s3Prefix: `${prefix}events/`,
      dataFormat: new glue.DataFormat({
        inputFormat: new glue.InputFormat(EVENTS_LINES.inputFormat),
        outputFormat: new glue.OutputFormat(EVENTS_LINES.outputFormat),
        serializationLibrary: new glue.SerializationLibrary(EVENTS_LINES.serializationLibrary),
      }),
      columns: [{ name: EVENTS_LINES.column, type: glue.Schema.STRING }],
      partitionKeys: [{ name: "dt", type: glue.Schema.STRING }],
      partitionProjection: dtProjection,
      compressed: true,
    });
    (lines.node.defaultChild as glue.CfnTable).addPropertyOverride(
      "TableInput.StorageDescriptor.SerdeInfo.Parameters",
      EVENTS_LINES.serdeParameters,
    );
    const view = new glue.CfnTable(this, "EventsDedupView", {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.database.databaseName,
      tableInput: athenaViewTableInput({
        name: "events_dedup",
        description:
          "One row per eventId, every field read from the exact line, event_time parsed from timestamp",
        database: databaseName,
        sql: dedupViewSql(databaseName),
        columns: VIEW_COLUMNS,
      }),
    });
    view.node.addDependency(lines);
    this.workgroup = new athena.CfnWorkGroup(this, "WorkGroup", {
      name: `monitor-lake-${stack.stackName}`,
      description: "Queries over the monitor-lake events",
      state: "ENABLED",
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoff ?? 10 * 1024 ** 3,
        engineVersion: { selectedEngineVersion: "Athena engine version 3" },
        resultConfiguration: {
          outputLocation: `s3://${this.bucket.bucketName}/${prefix}athena-results/`,
          encryptionConfiguration: { encryptionOption: "SSE_S3" },
        },
      },
    });
    for (const q of SAVED_QUERIES) {
      const query = new athena.CfnNamedQuery(this, `Query-${q.name}`, {
        name: `monitor-lake: ${q.name}`,
        description: q.description,
        database: this.database.databaseName,
        workGroup: this.workgroup.name,
        queryString: q.sql(databaseName),
      });
      query.node.addDependency(this.workgroup);
    }

    // --- Alarms and dashboard ----------------------------------------------------------------------
    this.alarmTopic = new sns.Topic(this, "Alarms", {
      displayName: "monitor-lake alarms",
      enforceSSL: true,
      ...(props.encryptionKey ? { masterKey: props.encryptionKey } : {}),
    });
    if (props.alarmEmail)
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const metric = (name: string, statistic: string, stream: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: "MonitorLake",
        metricName: name,
        dimensionsMap: { stream },
        statistic,
        period: Duration.minutes(15),
      });
    const alarm = (id: string, props: cloudwatch.AlarmProps): void => {
      const a = new cloudwatch.Alarm(this, id, props);
      a.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
      this.alarms.push(a);
    };
    alarm("FunctionErrors", {
      alarmDescription:
        "Ingest runs failed. The function's log has the error: what failed, why, the fix and DocuSign's trace token.",
      metric: this.function.metricErrors({ period: Duration.minutes(15) }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm("FunctionThrottles", {
      alarmDescription:
        "Invocations were throttled: the account's concurrency is exhausted or reserved concurrency is 0.",
      metric: this.function.metricThrottles({ period: Duration.minutes(15) }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm("FunctionDurationHigh", {
      alarmDescription:
        "Runs use more than 80% of the timeout: raise the timeout (below the schedule period) or the memory.",
      metric: this.function.metricDuration({ period: Duration.minutes(15), statistic: "Maximum" }),
      threshold: timeout.toMilliseconds() * 0.8,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm("FailedRunsQueued", {
      alarmDescription: "Failed invocations are in the on-failure queue: read the messages for the error.",
      metric: this.failureQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const s of streams) {
      alarm(`IngestionStalled-${s.id}`, {
        alarmDescription: `Stream ${s.id}: the newest stored event is over 2 hours old, or no run reported for 45 minutes (missing data breaches).`,
        metric: metric("IngestLagSeconds", "Maximum", s.id),
        threshold: 7200,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      alarm(`AuthFailures-${s.id}`, {
        alarmDescription: `Stream ${s.id}: DocuSign refused authentication (consent, key, user or role). The log names the fix.`,
        metric: metric("AuthFailures", "Sum", s.id),
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm(`LeaseConflicts-${s.id}`, {
        alarmDescription: `Stream ${s.id}: runs keep finding the lease held: runs overlap or a run hangs.`,
        metric: metric("LeaseHeld", "Sum", s.id),
        threshold: 3,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    const dashboard = new cloudwatch.Dashboard(this, "Dashboard", {
      dashboardName: `monitor-lake-${stack.stackName}`,
    });
    // The function's own health, then one row per stream: an organization's trouble shows in its row.
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Errors and throttles (all streams)",
        left: [this.function.metricErrors(), this.function.metricThrottles()],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: "Duration (ms, all streams)",
        left: [this.function.metricDuration({ statistic: "Maximum" })],
        width: 12,
      }),
    );
    for (const s of streams) {
      const line = (name: string, statistic: string) => metric(name, statistic, s.id).with({ label: name });
      dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${s.id}: events and bytes per run`,
          left: [line("EventsIngested", "Sum")],
          right: [line("BytesWritten", "Sum")],
          width: 6,
        }),
        new cloudwatch.GraphWidget({
          title: `${s.id}: ingest lag (s)`,
          left: [line("IngestLagSeconds", "Maximum")],
          width: 6,
        }),
        new cloudwatch.GraphWidget({
          title: `${s.id}: auth failures and lease conflicts`,
          left: [line("AuthFailures", "Sum"), line("LeaseHeld", "Sum")],
          width: 6,
        }),
        new cloudwatch.GraphWidget({
          title: `${s.id}: DocuSign retries and throttles`,
          left: [line("Retries", "Sum"), line("Throttled", "Sum")],
          width: 6,
        }),
      );
    }

    const detectionTargets = { function: this.function, logGroup, dashboard, alarmEmail: props.alarmEmail };
    new DetectionAlarms(this, "Detections", {
      ...props.detections,
      ...detectionTargets,
      streams: streams.map((s) => s.id),
    });

    // --- Outputs -----------------------------------------------------------------------------------
    new CfnOutput(this, "BucketName", { value: this.bucket.bucketName });
    new CfnOutput(this, "StateTableName", { value: this.table.tableName });
    // Per stream; the first stream's outputs keep the names of a one-stream deployment.
    streams.forEach((s, i) => {
      const suffix = i === 0 ? "" : s.id.replace(/[^A-Za-z0-9]/g, "");
      const secretArn = (secrets.get(s.id) as secretsmanager.ISecret).secretArn;
      const who = streams.length === 1 ? "" : `Stream ${s.id}: `;
      new CfnOutput(this, `PrivateKeySecretArn${suffix}`, {
        description: `${who}the secret holding the private key of integration key ${s.integrationKey}`,
        value: secretArn,
      });
      new CfnOutput(this, `StorePrivateKeyCommand${suffix}`, {
        description: `${who}run once with the private key file of integration key ${s.integrationKey}`,
        value: `aws secretsmanager put-secret-value --secret-id ${secretArn} --secret-string file://private.pem`,
      });
      new CfnOutput(this, `ConsentUrl${suffix}`, {
        description: `${who}open once, signed in as user ${s.userId} (the redirect URI must be registered on the key)`,
        value: consentUrl(
          defaultOAuthUrl(s.environment),
          s.integrationKey,
          s.redirectUri ?? DEFAULT_REDIRECT_URI,
        ),
      });
    });
    new CfnOutput(this, "LogGroupName", { value: logGroup.logGroupName });
    new CfnOutput(this, "AthenaWorkGroup", { value: this.workgroup.name });
    new CfnOutput(this, "AthenaDatabase", { value: this.database.databaseName });
    new CfnOutput(this, "DashboardUrl", {
      value: `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${dashboard.dashboardName}`,
    });
  }
}

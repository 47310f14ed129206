import { fileURLToPath } from "node:url";
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
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
import { consentUrl, DEFAULT_REDIRECT_URI, defaultOAuthUrl } from "../lambda/adapters/docusign-endpoints";
import { ENV } from "../lambda/config";
import { dedupViewSql, EVENT_FIELDS, hiveType, SAVED_QUERIES, VIEW_COLUMNS } from "./athena-schema";

/** One DocuSign organization (or legacy account stream) to ingest. */
export interface MonitorStream {
  /** Names the stream's state item and its objects; 1-64 of letters, digits, ".", "_", "-". */
  readonly id: string;
  /** Set: the organization stream API; unset: the legacy lens stream. @default none */
  readonly organizationId?: string;
  /** Where the stream starts the first time: an ISO-8601 date-time. @default seven days back */
  readonly startCursor?: string;
}

export interface MonitorLakeProps {
  /** DocuSign integration key (GUID). */
  readonly integrationKey: string;
  /** GUID of the impersonated Organization Administrator or Security Reports Administrator. */
  readonly userId: string;
  /** @default "demo" */
  readonly environment?: "demo" | "production";
  /** Streams to ingest, one schedule each. @default one stream "default" on the legacy lens API */
  readonly streams?: readonly MonitorStream[];
  /** EventBridge Scheduler expression. @default "rate(5 minutes)" */
  readonly schedule?: string;
  /** Email address subscribed to the alarm topic. @default no subscription */
  readonly alarmEmail?: string;
  /** A redirect URI registered on the integration key, used in consent URLs. @default DocuSign's consent walkthrough page */
  readonly redirectUri?: string;
  /** Import this existing secret (name) instead of creating an empty one. @default a new secret */
  readonly keySecretName?: string;
  /** Delete events after this many days. @default keep forever */
  readonly retentionDays?: number;
  /** Object Lock for tamper-evident retention; only on a new bucket. @default none */
  readonly objectLock?: { readonly mode: "GOVERNANCE" | "COMPLIANCE"; readonly days: number };
  /** Encrypt the bucket with this KMS key (with S3 bucket keys). @default SSE-S3 */
  readonly encryptionKey?: kms.IKey;
  /** Prefix of everything the lake writes in the bucket; empty or ending in "/". @default "" */
  readonly keyPrefix?: string;
  /** @default 512 */
  readonly memorySize?: number;
  /** Keep it under the schedule period. @default 5 minutes */
  readonly timeout?: Duration;
  /** Turn off for accounts with a small concurrency quota: the DynamoDB lease still protects. @default true */
  readonly reservedConcurrency?: boolean;
  /** First `dt` of the Athena partition projection. @default "2020-01-01" */
  readonly projectionStart?: string;
  /** Athena stops a query after scanning this many bytes. @default 10 GiB */
  readonly bytesScannedCutoff?: number;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
}

/** monitor-lake in one construct: the scheduled ingester, the lake, Athena, alarms and a dashboard. */
export class MonitorLake extends Construct {
  readonly bucket: s3.Bucket;
  readonly table: dynamodb.Table;
  readonly secret: secretsmanager.ISecret;
  readonly function: nodejs.NodejsFunction;
  readonly alarmTopic: sns.Topic;
  readonly database: glue.Database;
  readonly workgroup: athena.CfnWorkGroup;
  readonly failureQueue: sqs.Queue;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitorLakeProps) {
    super(scope, id);
    const environment = props.environment ?? "demo";
    const prefix = props.keyPrefix ?? "";
    const streams = props.streams ?? [{ id: "default" }];
    const timeout = props.timeout ?? Duration.minutes(5);
    const stack = Stack.of(this);

    // --- Storage ---------------------------------------------------------------------------------
    const accessLogs = new s3.Bucket(this, "AccessLogs", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(365) }],
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
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.secret = props.keySecretName
      ? secretsmanager.Secret.fromSecretNameV2(this, "PrivateKey", props.keySecretName)
      : new secretsmanager.Secret(this, "PrivateKey", {
          description:
            "monitor-lake: the RSA private key (PEM, PKCS#1 or PKCS#8) of DocuSign integration key " +
            `${props.integrationKey}. Created empty: store it with aws secretsmanager put-secret-value.`,
          removalPolicy: RemovalPolicy.RETAIN,
        });
    if (this.secret instanceof secretsmanager.Secret) {
      // Without SecretString and GenerateSecretString CloudFormation creates the secret empty: no random value.
      (this.secret.node.defaultChild as secretsmanager.CfnSecret).addPropertyDeletionOverride(
        "GenerateSecretString",
      );
    }

    // --- The ingester ------------------------------------------------------------------------------
    this.failureQueue = new sqs.Queue(this, "FailedRuns", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, "FunctionRole", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: "monitor-lake ingester: its log group, its objects, its state items and its key secret",
    });
    logGroup.grantWrite(role);
    this.function = new nodejs.NodejsFunction(this, "Ingester", {
      entry: fileURLToPath(new URL("../lambda/handler.ts", import.meta.url)),
      handler: "handler",
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      ...(props.reservedConcurrency === false ? {} : { reservedConcurrentExecutions: 1 }),
      retryAttempts: 0,
      onFailure: new SqsDestination(this.failureQueue),
      description: "monitor-lake: copies DocuSign Monitor events into the lake",
      environment: {
        [ENV.docusignEnv]: environment,
        [ENV.integrationKey]: props.integrationKey,
        [ENV.userId]: props.userId,
        [ENV.privateKeySecret]: this.secret.secretArn,
        [ENV.bucket]: this.bucket.bucketName,
        [ENV.keyPrefix]: prefix,
        [ENV.stateTable]: this.table.tableName,
        [ENV.stream]: streams[0]?.id ?? "default",
        ...(props.redirectUri ? { [ENV.redirectUri]: props.redirectUri } : {}),
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
    props.encryptionKey?.grantEncrypt(role);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        resources: [this.table.tableArn],
        conditions: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": streams.map((s) => s.id) } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["secretsmanager:GetSecretValue"],
        resources: [props.keySecretName ? `${this.secret.secretArn}-??????` : this.secret.secretArn],
      }),
    );

    const deadLetters = new sqs.Queue(this, "ScheduleDeadLetters", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const schedulerRole = new iam.Role(this, "SchedulerRole", {
      assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
      }),
      description: "monitor-lake: lets EventBridge Scheduler invoke the ingester",
    });
    for (const s of streams) {
      new scheduler.Schedule(this, `Schedule-${s.id}`, {
        schedule: scheduler.ScheduleExpression.expression(props.schedule ?? "rate(5 minutes)"),
        description: `monitor-lake: ingest stream ${s.id}`,
        target: new targets.LambdaInvoke(this.function, {
          input: scheduler.ScheduleTargetInput.fromObject({
            stream: s.id,
            ...(s.organizationId ? { organizationId: s.organizationId } : {}),
            ...(s.startCursor ? { startCursor: s.startCursor } : {}),
          }),
          retryAttempts: 2,
          maxEventAge: Duration.minutes(10),
          deadLetterQueue: deadLetters,
          role: schedulerRole,
        }),
      });
    }

    // --- Athena ------------------------------------------------------------------------------------
    this.database = new glue.Database(this, "Database", {
      databaseName: `monitor_lake_${stack.stackName.toLowerCase().replace(/[^a-z0-9]+/g, "_")}`,
      description: "DocuSign Monitor events (monitor-lake)",
    });
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
      partitionProjection: {
        dt: glue.PartitionProjectionConfiguration.date({
          min: props.projectionStart ?? "2020-01-01",
          max: "NOW",
          format: "yyyy-MM-dd",
          step: { interval: 1, intervalUnit: glue.DateIntervalUnit.DAYS },
        }),
      },
      compressed: true,
    });
    // OpenX SerDe: JSON keys are matched case-insensitively (eventId -> eventid) and `data`, an object,
    // is read into its string column as JSON text.
    const cfnEvents = events.node.defaultChild as glue.CfnTable;
    cfnEvents.addPropertyOverride("TableInput.StorageDescriptor.SerdeInfo.Parameters", {
      "case.insensitive": "TRUE",
      "ignore.malformed.json": "FALSE",
      "dots.in.keys": "FALSE",
    });
    const viewSql = dedupViewSql(this.database.databaseName);
    const prestoView = {
      originalSql: viewSql,
      catalog: "awsdatacatalog",
      schema: this.database.databaseName,
      columns: VIEW_COLUMNS.map((c) => ({ name: c.name, type: c.type })),
    };
    const view = new glue.CfnTable(this, "EventsDedupView", {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.database.databaseName,
      tableInput: {
        name: "events_dedup",
        description: "One row per eventId, with event_time parsed from timestamp",
        tableType: "VIRTUAL_VIEW",
        parameters: { presto_view: "true", comment: "Presto View" },
        viewOriginalText: `/* Presto View: ${Buffer.from(JSON.stringify(prestoView)).toString("base64")} */`,
        viewExpandedText: "/* Presto View */",
        storageDescriptor: {
          columns: VIEW_COLUMNS.map((c) => ({ name: c.name, type: c.hiveType })),
          serdeInfo: {},
        },
      },
    });
    view.node.addDependency(events);
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
        queryString: q.sql(this.database.databaseName),
      });
      query.node.addDependency(this.workgroup);
    }

    // --- Alarms and dashboard ----------------------------------------------------------------------
    this.alarmTopic = new sns.Topic(this, "Alarms", { displayName: "monitor-lake alarms", enforceSSL: true });
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
    const perStream = (name: string, statistic: string): cloudwatch.IMetric[] =>
      streams.map((s) => metric(name, statistic, s.id).with({ label: `${name} ${s.id}` }));
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Events per run",
        left: perStream("EventsIngested", "Sum"),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: "Ingest lag (s)",
        left: perStream("IngestLagSeconds", "Maximum"),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: "Errors and throttles",
        left: [this.function.metricErrors(), this.function.metricThrottles()],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: "Duration (ms)",
        left: [this.function.metricDuration({ statistic: "Maximum" })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: "Bytes written",
        left: perStream("BytesWritten", "Sum"),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: "DocuSign retries and throttles",
        left: [...perStream("Retries", "Sum"), ...perStream("Throttled", "Sum")],
        width: 8,
      }),
    );

    // --- Outputs -----------------------------------------------------------------------------------
    new CfnOutput(this, "BucketName", { value: this.bucket.bucketName });
    new CfnOutput(this, "StateTableName", { value: this.table.tableName });
    new CfnOutput(this, "PrivateKeySecretArn", { value: this.secret.secretArn });
    new CfnOutput(this, "StorePrivateKeyCommand", {
      description: "Run once with the integration's private key file",
      value: `aws secretsmanager put-secret-value --secret-id ${this.secret.secretArn} --secret-string file://private.pem`,
    });
    new CfnOutput(this, "ConsentUrl", {
      description:
        "Open once, signed in as the impersonated user (the redirect URI must be registered on the key)",
      value: consentUrl(
        defaultOAuthUrl(environment),
        props.integrationKey,
        props.redirectUri ?? DEFAULT_REDIRECT_URI,
      ),
    });
    new CfnOutput(this, "LogGroupName", { value: logGroup.logGroupName });
    new CfnOutput(this, "AthenaWorkGroup", { value: this.workgroup.name });
    new CfnOutput(this, "AthenaDatabase", { value: this.database.databaseName });
    new CfnOutput(this, "DashboardUrl", {
      value: `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${dashboard.dashboardName}`,
    });
  }
}

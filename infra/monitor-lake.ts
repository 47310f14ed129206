import { Duration } from "aws-cdk-lib";
import type * as athena from "aws-cdk-lib/aws-athena";
import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as glue from "aws-cdk-lib/aws-glue";
import type * as iam from "aws-cdk-lib/aws-iam";
import type * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { detectionLookbackMinutes, streamAlarmTiming } from "./alarm-timing";
import { createAnalystsPolicy } from "./analysts-policy";
import { CURATED_TABLE } from "./curated-schema";
import { CURATED_LOCATION, createCuration } from "./curation";
import { createDashboard } from "./dashboard";
import { DetectionAlarms } from "./detection-alarms";
import { createIngestAlarms } from "./ingest-alarms";
import { createIngestFunction } from "./ingest-function";
import { keyPolicyForServices } from "./key-policy";
import { createKeySecrets } from "./key-secrets";
import type { MonitorLakeProps } from "./monitor-lake-props";
import { createOutputs, stableOutputIds } from "./outputs";
import { projectionStart } from "./projection-start";
import { createQuery, lakeDatabaseName } from "./query";
import { DEFAULT_BYTES_SCANNED_CUTOFF } from "./scan-cutoff";
import { runGapSeconds } from "./schedule-expression";
import { createSchedules } from "./schedules";
import {
  createSecurityLake,
  exportDefinition,
  type SecurityLake,
  securityLakeOptions,
} from "./security-lake";
import { createStateTable } from "./state";
import { createStorage } from "./storage";
import { type ResolvedStream, resolveStreams } from "./stream-settings";
import { createSummaryAlarms, notifyRecovery } from "./summary-alarms";
import { validateProps } from "./validate-props";

export type { MonitorLakeProps } from "./monitor-lake-props";
export type { MonitorStream } from "./stream-settings";

/**
 * monitor-lake in one construct: the scheduled ingester, the lake, Athena, alarms and a dashboard.
 * Each concern is a function in its own file that creates its resources directly in this construct's
 * scope, so that the construct ids, and with them an existing stack's logical ids, stay as they are.
 */
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
  /** Where the workgroup writes query results (their own bucket, expiring). */
  readonly queryResults: s3.Bucket;
  /** What analysts need to run the saved queries (output `AnalystsPolicyArn`). */
  readonly analystsPolicy: iam.ManagedPolicy;
  readonly failureQueue: sqs.Queue;
  readonly alarms: cloudwatch.Alarm[] = [];
  /** The state machine that keeps `events_curated` (infra/curation.ts). */
  readonly curation: sfn.StateMachine;
  /** With the prop `securityLake`: the custom sources and the export (infra/security-lake.ts). */
  readonly securityLake?: SecurityLake;

  constructor(scope: Construct, id: string, props: MonitorLakeProps) {
    super(scope, id);
    validateProps(props);
    const prefix = props.keyPrefix ?? "";
    const key = props.encryptionKey;
    const streams = resolveStreams(props.streams ?? [{ id: "default" }], props);
    this.streams = streams;
    const timeout = props.timeout ?? Duration.minutes(5);

    const storage = createStorage(this, {
      prefix,
      ...(key ? { encryptionKey: key } : {}),
      ...(props.objectLock ? { objectLock: props.objectLock } : {}),
      ...(props.retentionDays ? { retentionDays: props.retentionDays } : {}),
    });
    this.bucket = storage.lake;
    this.table = createStateTable(this, key);
    const secrets = createKeySecrets(this, streams, key);
    this.secrets = secrets.byStream;
    this.secret = secrets.byStream.get((streams[0] as ResolvedStream).id) as secretsmanager.ISecret;

    if (key) keyPolicyForServices(this, key);
    const ingest = createIngestFunction(this, {
      streams,
      bucket: this.bucket,
      prefix,
      table: this.table,
      secrets,
      timeout,
      memorySize: props.memorySize ?? 512,
      reservedConcurrency: props.reservedConcurrency !== false,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      ...(key ? { encryptionKey: key } : {}),
    });
    this.function = ingest.function;
    this.failureQueue = ingest.failureQueue;
    createSchedules(this, this.function, streams, key);

    const query = createQuery(this, {
      bucket: this.bucket,
      prefix,
      projectionStart: projectionStart(props.projectionStart, streams),
      bytesScannedCutoff: props.bytesScannedCutoff ?? DEFAULT_BYTES_SCANNED_CUTOFF,
      accessLogs: storage.accessLogs,
      ...(key ? { encryptionKey: key } : {}),
    });
    this.database = query.database;
    this.workgroup = query.workgroup;
    this.queryResults = query.results;
    // With summary alarms the email goes to the summary topic only.
    const email = props.summaryAlarms ? undefined : props.alarmEmail;
    const health = createIngestAlarms(this, {
      function: this.function,
      failureQueue: this.failureQueue,
      streams,
      timeout,
      ...(email ? { alarmEmail: email } : {}),
      ...(key ? { encryptionKey: key } : {}),
    });
    this.alarmTopic = health.topic;
    this.alarms.push(...health.alarms);
    const securityLake = securityLakeOptions(props.securityLake);
    if (securityLake) {
      this.securityLake = createSecurityLake(this, {
        options: securityLake,
        databaseName: lakeDatabaseName(this),
        database: this.database,
        lake: this.bucket,
        prefix,
        results: query.results,
        catalog: query.catalog,
        reservedConcurrency: props.reservedConcurrency !== false,
        ...(key ? { encryptionKey: key } : {}),
      });
    }
    const curation = createCuration(this, {
      bucket: this.bucket,
      prefix,
      databaseName: lakeDatabaseName(this),
      database: this.database,
      workgroupName: this.workgroup.name,
      alarmTopic: this.alarmTopic,
      ...(props.curationPeriodMinutes ? { periodMinutes: props.curationPeriodMinutes } : {}),
      ...(key ? { encryptionKey: key } : {}),
      ...(this.securityLake
        ? {
            export: {
              definition: exportDefinition(this.securityLake, lakeDatabaseName(this)),
              statements: this.securityLake.exportStatements,
              dependencies: [...this.securityLake.tables, this.securityLake.customResource],
            },
          }
        : {}),
    });
    this.curation = curation.stateMachine;
    this.alarms.push(...curation.alarms);
    this.analystsPolicy = createAnalystsPolicy(this, {
      workgroupName: this.workgroup.name,
      databaseName: query.databaseName,
      // The raw tables and view (evidence), and the curated table the saved queries read.
      tableNames: [...query.tableNames, CURATED_TABLE],
      catalog: [...query.catalog, curation.table],
      lake: this.bucket,
      prefix,
      curatedPrefix: `${prefix}${CURATED_LOCATION}`,
      results: query.results,
      ...(key ? { encryptionKey: key } : {}),
      ...(props.analystLakeFormationPrincipals
        ? { lakeFormationPrincipals: props.analystLakeFormationPrincipals }
        : {}),
    });

    const dashboard = createDashboard(this, this.function, streams);
    const longestGap = Math.max(...streams.map((s) => runGapSeconds(s.schedule)));
    const detections = new DetectionAlarms(this, "Detections", {
      ...props.detections,
      // Matches arrive up to a schedule gap late: the alarms look back at least that far.
      lookbackMinutes:
        props.detections?.lookbackMinutes ?? detectionLookbackMinutes(longestGap, timeout.toSeconds()),
      function: this.function,
      logGroup: ingest.logGroup,
      dashboard,
      alarmEmail: email,
      streams: streams.map((s) => s.id),
      errorAlarms: {
        topic: this.alarmTopic,
        periodSeconds: (id) => {
          const s = streams.find((x) => x.id === id) as ResolvedStream;
          return streamAlarmTiming(runGapSeconds(s.schedule), timeout.toSeconds()).periodSeconds;
        },
      },
    });
    notifyRecovery(detections.alarms);
    const summaryTopic = props.summaryAlarms
      ? createSummaryAlarms(this, {
          streams,
          alarms: [...this.alarms, ...detections.alarms],
          ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
          ...(key ? { encryptionKey: key } : {}),
        })
      : undefined;

    createOutputs(this, {
      bucket: this.bucket,
      accessLogs: storage.accessLogs,
      queryResults: this.queryResults,
      table: this.table,
      streams,
      secrets: this.secrets,
      logGroup: ingest.logGroup,
      workgroup: this.workgroup,
      database: this.database,
      dashboard,
      analystsPolicy: this.analystsPolicy,
      function: this.function,
      failureQueue: this.failureQueue,
      ...(summaryTopic ? { summaryTopic } : {}),
    });
    stableOutputIds(this);
  }

  /**
   * Lets `grantee` run the saved queries: attaches the analysts' managed policy to its role, user or
   * group (a function or other grantable gets it on its role; imported ones too). Throws for a
   * principal that is none of these: attach the output `AnalystsPolicyArn` where it belongs instead.
   */
  grantQuery(grantee: iam.IGrantable): void {
    const principal = grantee.grantPrincipal as iam.IPrincipal & Partial<iam.IRole & iam.IUser & iam.IGroup>;
    if (principal.roleArn !== undefined) this.analystsPolicy.attachToRole(principal as iam.IRole);
    else if (principal.userArn !== undefined) this.analystsPolicy.attachToUser(principal as iam.IUser);
    else if (principal.groupArn !== undefined) this.analystsPolicy.attachToGroup(principal as iam.IGroup);
    else {
      throw new Error(
        `grantQuery needs a role, user or group (got ${principal.toString()}): attach the policy of the ` +
          "output AnalystsPolicyArn to the identity that runs the queries.",
      );
    }
  }
}

import type { Duration } from "aws-cdk-lib";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as logs from "aws-cdk-lib/aws-logs";
import type { CurationPeriod } from "./curation";
import type { DetectionOptions } from "./detection-alarms";
import type { SecurityLakeOptions } from "./security-lake-options";
import type { MonitorStream } from "./stream-settings";

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
   * @default one stream "default" (no organization id: the one userinfo names, else the lens stream)
   */
  readonly streams?: readonly MonitorStream[];
  /** EventBridge Scheduler expression; the default of every stream. @default "rate(5 minutes)" */
  readonly schedule?: string;
  /**
   * Email address subscribed to the alarm topic and the detection topics, or with `summaryAlarms` to the
   * summary topic only. @default no subscription
   */
  readonly alarmEmail?: string;
  /**
   * Per stream one composite alarm, in ALARM while any of the stream's or the function's alarms is, on its
   * own topic (output `SummaryTopicArn`); `alarmEmail` then subscribes to that topic only: one page per
   * stream, not one per alarm. @default false
   */
  readonly summaryAlarms?: boolean;
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
  /**
   * First `dt` (yyyy-MM-dd) of the Athena partition projection: the first day there can be events
   * (infra/projection-start.ts). Set it to the day the streams start (seven days before the first
   * deployment unless they set `startCursor`), and never later once events are stored: days before it
   * are not read. CDK context `-c projectionStart=yyyy-MM-dd`.
   * @default the day of the earliest `startCursor` when every stream sets one, else "2020-01-01"
   */
  readonly projectionStart?: string;
  /**
   * Lake Formation grants for analysts, for accounts where Lake Formation governs the Data Catalog:
   * IAM principal ARNs (roles or users) given DESCRIBE on the database and SELECT and DESCRIBE on
   * `events`, `events_lines`, `events_lines_untimed`, `events_dedup` and `events_curated`. The deploying
   * role must be a Lake Formation administrator. Attach the analysts' policy too (`grantQuery`, output
   * `AnalystsPolicyArn`).
   * @default no Lake Formation grants (IAM alone governs the catalog)
   */
  readonly analystLakeFormationPrincipals?: readonly string[];
  /**
   * Athena stops a query after scanning this many bytes. The default lets a query read a year of
   * `events_curated` at 10 million events a day (infra/scan-cutoff.ts). @default DEFAULT_BYTES_SCANNED_CUTOFF
   */
  readonly bytesScannedCutoff?: number;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Detection rules, their alarms, topics and queries (infra/detection-alarms.ts). @default every default rule */
  readonly detections?: DetectionOptions;
  /**
   * Minutes between merges of new raw events into the curated Iceberg table `events_curated`
   * (infra/curation.ts): 15, 20, 30 or 60. @default 60
   */
  readonly curationPeriodMinutes?: CurationPeriod;
  /**
   * Amazon Security Lake: one custom source per OCSF class (registered by a custom resource), the
   * OCSF views in the Glue catalog, and after each curated merge an export of the new events into
   * the sources' partitions, each event once (infra/security-lake.ts, README "OCSF and Amazon
   * Security Lake"). Security Lake must be enabled in the stack's Region. `true` takes every default.
   * CDK context `-c securityLake=true` or a JSON object of these options.
   * @default off
   */
  readonly securityLake?: boolean | SecurityLakeOptions;
}

import { readFileSync } from "node:fs";
import { App, Aspects } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { StreamApi } from "../lambda/docusign/docusign-endpoints";
import { ConfigError } from "../lambda/errors";
import { parseStreamTable, StreamTableTarget } from "../lambda/streams";
import { unknownContextKeys } from "./context-keys";
import { CURATION_PERIODS, type CurationPeriod } from "./curation";
import { detectionOptionsFromContext } from "./detection-alarms";
import type { MonitorLakeProps } from "./monitor-lake";
import { MonitorLakeStack } from "./monitor-lake-stack";
import type { MonitorStream } from "./stream-settings";
import { propsProblems } from "./validate-props";

/**
 * `npx cdk deploy -c integrationKey=<GUID> -c userId=<GUID>` and optionally -c organizationId,
 * streamApi (lens|organization; not lens with organizationId), environment (demo|production), schedule,
 * alarmEmail, summaryAlarms (true|false), keySecretName, redirectUri, retentionDays, objectLock
 * (GOVERNANCE:<days> or COMPLIANCE:<days>), encryptionKey (new or a KMS key ARN), stackName,
 * projectionStart (yyyy-MM-dd), analystLakeFormationPrincipals (comma-separated IAM role or user ARNs),
 * curationPeriodMinutes (15, 20, 30 or 60), securityLake (true, false, or a JSON object of
 * sourcePrefix, externalId, providerPrincipal, kmsKeyArn: infra/security-lake.ts).
 * Several organizations: `-c streams=<JSON array or a file holding one>` (lambda/streams.ts); each
 * stream's missing fields take -c integrationKey, userId, environment, keySecretName, schedule, redirectUri.
 */
export function propsFromContext(get: (key: string) => unknown): MonitorLakeProps {
  const text = (key: string): string | undefined => {
    const value = get(key);
    return value === undefined || value === null || String(value).trim() === ""
      ? undefined
      : String(value).trim();
  };
  const problems: string[] = [];
  const streams = streamsFromContext(get("streams"), problems);
  if (streams !== undefined && (text("organizationId") || text("streamId") || text("streamApi")))
    problems.push(
      "-c organizationId, -c streamApi and -c streamId are for one stream: with -c streams set them in each stream",
    );
  const environment = text("environment") ?? "demo";
  if (environment !== "demo" && environment !== "production")
    problems.push("-c environment=demo or -c environment=production");
  const retention = text("retentionDays");
  const retentionDays = retention === undefined ? undefined : Number(retention);
  if (retentionDays !== undefined && !(Number.isInteger(retentionDays) && retentionDays > 0)) {
    problems.push(`-c retentionDays=<whole number of days> (got "${retention}")`);
  }
  const lock = text("objectLock");
  let objectLock: MonitorLakeProps["objectLock"];
  if (lock !== undefined) {
    const m = /^(GOVERNANCE|COMPLIANCE):(\d+)$/i.exec(lock);
    if (!m) problems.push(`-c objectLock=GOVERNANCE:<days> or COMPLIANCE:<days> (got "${lock}")`);
    else objectLock = { mode: (m[1] ?? "").toUpperCase() as "GOVERNANCE" | "COMPLIANCE", days: Number(m[2]) };
  }
  const period = text("curationPeriodMinutes");
  const curationPeriodMinutes = period === undefined ? undefined : Number(period);
  if (
    curationPeriodMinutes !== undefined &&
    !(CURATION_PERIODS as readonly number[]).includes(curationPeriodMinutes)
  )
    problems.push(`-c curationPeriodMinutes=${CURATION_PERIODS.join(" | ")} (got "${period}")`);
  const projectionStart = text("projectionStart");
  const analysts = text("analystLakeFormationPrincipals")
    ?.split(",")
    .map((a) => a.trim())
    .filter((a) => a !== "");
  const summary = text("summaryAlarms");
  if (summary !== undefined && !/^(true|false)$/i.test(summary))
    problems.push(`-c summaryAlarms=true or false (got "${summary}")`);
  const securityLake = securityLakeFromContext(get("securityLake"), problems);
  let detections: MonitorLakeProps["detections"];
  try {
    detections = detectionOptionsFromContext(get);
  } catch (error) {
    // detectionOptionsFromContext lists its problems one per indented line after a heading.
    problems.push(
      ...(error as Error).message
        .split("\n")
        .slice(1)
        .map((l) => l.trim()),
    );
  }
  const organizationId = text("organizationId");
  const streamApi = streamApiFromContext(text("streamApi"), organizationId, problems);
  const values = {
    integrationKey: text("integrationKey"),
    userId: text("userId"),
    schedule: text("schedule"),
    alarmEmail: text("alarmEmail"),
    keySecretName: text("keySecretName"),
    redirectUri: text("redirectUri"),
  };
  const props: MonitorLakeProps = {
    ...Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)),
    ...(environment === "demo" || environment === "production" ? { environment } : {}),
    streams: streams ?? [
      {
        id: text("streamId") ?? "default",
        ...(organizationId ? { organizationId } : {}),
        ...(streamApi ? { streamApi } : {}),
      },
    ],
    ...(retentionDays && Number.isInteger(retentionDays) && retentionDays > 0 ? { retentionDays } : {}),
    ...(objectLock ? { objectLock } : {}),
    ...(projectionStart ? { projectionStart } : {}),
    ...(analysts?.length ? { analystLakeFormationPrincipals: analysts } : {}),
    ...(curationPeriodMinutes ? { curationPeriodMinutes: curationPeriodMinutes as CurationPeriod } : {}),
    ...(summary !== undefined && /^true$/i.test(summary) ? { summaryAlarms: true } : {}),
    ...(detections ? { detections } : {}),
    ...(securityLake !== undefined ? { securityLake } : {}),
  };
  problems.push(...propsProblems(props, (path) => `-c ${path}`));
  if (problems.length > 0) throw new ConfigError(problems);
  return props;
}

/**
 * `-c streams`: a JSON array (as text, or as an array in cdk.json) or the path of a file holding one,
 * in the format of lambda/streams.ts; the CLI's `--streams` reads the same file.
 */
function streamsFromContext(value: unknown, problems: string[]): MonitorStream[] | undefined {
  if (value === undefined || value === null || String(value).trim() === "") return undefined;
  let text: string;
  if (typeof value !== "string") text = JSON.stringify(value);
  else if (value.trim().startsWith("[")) text = value;
  else {
    try {
      text = readFileSync(value.trim(), "utf8");
    } catch (error) {
      problems.push(
        `-c streams=<a JSON array or a file holding one>: cannot read "${value.trim()}" (${(error as Error).message})`,
      );
      return undefined;
    }
  }
  try {
    return parseStreamTable(text, "-c streams", StreamTableTarget.Deploy).map((e) => ({
      id: e.id,
      ...(e.organizationId ? { organizationId: e.organizationId } : {}),
      ...(e.streamApi ? { streamApi: e.streamApi } : {}),
      ...(e.integrationKey ? { integrationKey: e.integrationKey } : {}),
      ...(e.userId ? { userId: e.userId } : {}),
      ...(e.environment ? { environment: e.environment as "demo" | "production" } : {}),
      ...(e.keySecretName ? { keySecretName: e.keySecretName } : {}),
      ...(e.schedule ? { schedule: e.schedule } : {}),
      ...(e.redirectUri ? { redirectUri: e.redirectUri } : {}),
      ...(e.startCursor ? { startCursor: e.startCursor } : {}),
    }));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
    return undefined;
  }
}

/**
 * `-c streamApi=lens|organization` of the one-stream form, named as `-c` keys when it is invalid; it is
 * left out of the stream then, so that the stream's own check does not name it again.
 */
function streamApiFromContext(
  value: string | undefined,
  organizationId: string | undefined,
  problems: string[],
): StreamApi | undefined {
  if (value === undefined) return undefined;
  if (value !== StreamApi.Lens && value !== StreamApi.Organization) {
    problems.push(
      `-c streamApi=lens or -c streamApi=organization, or leave it out to read the organization userinfo names (got "${value}")`,
    );
    return undefined;
  }
  if (value === StreamApi.Lens && organizationId !== undefined) {
    problems.push(
      "-c streamApi=lens and -c organizationId: the lens stream has no organization. Remove one of them",
    );
    return undefined;
  }
  return value;
}

/**
 * `-c securityLake=true|false`, or a JSON object of its options (text, or an object in cdk.json);
 * propsProblems checks the object's fields.
 */
function securityLakeFromContext(value: unknown, problems: string[]): MonitorLakeProps["securityLake"] {
  if (value === undefined || value === null || String(value).trim() === "") return undefined;
  if (typeof value === "boolean") return value;
  if (typeof value === "object") return value as MonitorLakeProps["securityLake"];
  const text = String(value).trim();
  if (/^(true|false)$/i.test(text)) return /^true$/i.test(text);
  if (text.startsWith("{")) {
    try {
      return JSON.parse(text) as MonitorLakeProps["securityLake"];
    } catch (error) {
      problems.push(`-c securityLake: "${text}" is not valid JSON (${(error as Error).message})`);
      return undefined;
    }
  }
  problems.push(`-c securityLake=true, false or a JSON object such as {"externalId":"..."} (got "${text}")`);
  return undefined;
}

/** `-c encryptionKey=new` (a key created in the stack) or `-c encryptionKey=<KMS key ARN>`. */
export function encryptionKeyFromContext(get: (key: string) => unknown): string | undefined {
  const value = get("encryptionKey");
  if (value === undefined || value === null || String(value).trim() === "") return undefined;
  const text = String(value).trim();
  if (text === "new" || /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/.test(text)) return text;
  throw new Error(
    `monitor-lake needs -c encryptionKey=new (create a KMS key) or -c encryptionKey=<a KMS key ARN> (got "${text}")`,
  );
}

/**
 * The stack from the app's context; throws one ConfigError listing every problem of the context: unknown
 * keys (naming the nearest known one), missing and invalid values.
 */
export function buildApp(app: App): MonitorLakeStack {
  const get = (key: string): unknown => app.node.tryGetContext(key);
  const problems = unknownContextKeys(Object.keys(app.node.getAllContext()));
  let encryptionKey: string | undefined;
  try {
    encryptionKey = encryptionKeyFromContext(get);
  } catch (error) {
    problems.push((error as Error).message.replace(/^monitor-lake needs /, ""));
  }
  let lake: MonitorLakeProps | undefined;
  try {
    lake = propsFromContext(get);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || lake === undefined) throw new ConfigError(problems);
  const stack = new MonitorLakeStack(app, String(app.node.tryGetContext("stackName") ?? "MonitorLake"), {
    lake,
    ...(encryptionKey === undefined ? {} : { encryptionKey }),
    description: "monitor-lake: DocuSign Monitor events into an S3 data lake with Athena and alarms",
  });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  return stack;
}

if (process.argv[1]?.endsWith("app.ts")) {
  const app = new App();
  try {
    buildApp(app);
  } catch (error) {
    // A settings problem is the user's to fix: the list, without a stack trace.
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`monitor-lake cannot synthesize: ${error.message}\n`);
    process.exit(1);
  }
  app.synth();
}

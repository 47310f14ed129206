import { readFileSync } from "node:fs";
import { App, Aspects } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { ConfigError } from "../lambda/errors";
import { parseStreamTable, StreamTableTarget } from "../lambda/streams";
import { CURATION_PERIODS, type CurationPeriod } from "./curation";
import { detectionOptionsFromContext } from "./detection-alarms";
import type { MonitorLakeProps } from "./monitor-lake";
import { MonitorLakeStack } from "./monitor-lake-stack";
import type { MonitorStream } from "./stream-settings";

/**
 * `npx cdk deploy -c integrationKey=<GUID> -c userId=<GUID>` and optionally -c organizationId,
 * environment (demo|production), schedule, alarmEmail, keySecretName, redirectUri, retentionDays,
 * objectLock (GOVERNANCE:<days> or COMPLIANCE:<days>), encryptionKey (new or a KMS key ARN), stackName,
 * projectionStart (yyyy-MM-dd), analystLakeFormationPrincipals (comma-separated IAM role or user ARNs),
 * curationPeriodMinutes (15, 20, 30 or 60).
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
  const integrationKey = text("integrationKey");
  const userId = text("userId");
  const streams = streamsFromContext(get("streams"), problems);
  if (streams !== undefined && (text("organizationId") || text("streamId")))
    problems.push(
      "-c organizationId and -c streamId are for one stream: with -c streams set them in each stream",
    );
  if (!integrationKey && !streams?.every((s) => s.integrationKey))
    problems.push("-c integrationKey=<the integration key GUID from DocuSign Apps and Keys>");
  if (!userId && !streams?.every((s) => s.userId))
    problems.push("-c userId=<the impersonated admin's user GUID ('API Username')>");
  for (const s of streams ?? [])
    if (s.environment !== undefined && s.environment !== "demo" && s.environment !== "production")
      problems.push(`-c streams: stream "${s.id}" environment must be demo or production`);
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
  if (problems.length > 0) {
    throw new Error(
      `monitor-lake needs these CDK context values:\n  ${problems.join("\n  ")}\ne.g. npx cdk deploy -c integrationKey=... -c userId=...`,
    );
  }
  const organizationId = text("organizationId");
  const schedule = text("schedule");
  const alarmEmail = text("alarmEmail");
  const keySecretName = text("keySecretName");
  const redirectUri = text("redirectUri");
  const projectionStart = text("projectionStart");
  const analysts = text("analystLakeFormationPrincipals")
    ?.split(",")
    .map((a) => a.trim())
    .filter((a) => a !== "");
  return {
    ...(integrationKey ? { integrationKey } : {}),
    ...(userId ? { userId } : {}),
    environment: environment as "demo" | "production",
    streams: streams ?? [
      { id: text("streamId") ?? "default", ...(organizationId ? { organizationId } : {}) },
    ],
    ...(schedule ? { schedule } : {}),
    ...(alarmEmail ? { alarmEmail } : {}),
    ...(keySecretName ? { keySecretName } : {}),
    ...(redirectUri ? { redirectUri } : {}),
    ...(retentionDays ? { retentionDays } : {}),
    ...(objectLock ? { objectLock } : {}),
    ...(projectionStart ? { projectionStart } : {}),
    ...(analysts?.length ? { analystLakeFormationPrincipals: analysts } : {}),
    detections: detectionOptionsFromContext(get),
    ...(curationPeriodMinutes ? { curationPeriodMinutes: curationPeriodMinutes as CurationPeriod } : {}),
  };
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

export function buildApp(app: App): MonitorLakeStack {
  const get = (key: string): unknown => app.node.tryGetContext(key);
  const encryptionKey = encryptionKeyFromContext(get);
  const stack = new MonitorLakeStack(app, String(app.node.tryGetContext("stackName") ?? "MonitorLake"), {
    lake: propsFromContext(get),
    ...(encryptionKey === undefined ? {} : { encryptionKey }),
    description: "monitor-lake: DocuSign Monitor events into an S3 data lake with Athena and alarms",
  });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  return stack;
}

if (process.argv[1]?.endsWith("app.ts")) {
  const app = new App();
  buildApp(app);
  app.synth();
}

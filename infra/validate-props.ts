import { Duration, Token } from "aws-cdk-lib";
import { STREAM_ID_PATTERN } from "../lambda/core/object-key";
import { StreamApi } from "../lambda/docusign/docusign-endpoints";
import { ConfigError } from "../lambda/errors";
import { deployedRules } from "./detection-alarms";
import type { MonitorLakeProps } from "./monitor-lake-props";
import { parseSchedule } from "./schedule-expression";
import { securityLakeProblems } from "./security-lake-options";
import type { MonitorStream } from "./stream-settings";

/** How a problem names a setting: the prop path for the construct, `-c <key>` for the CDK app. */
export type SettingName = (path: string) => string;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const KEY_PREFIX = /^(?:[A-Za-z0-9!_.*'()-]+\/)*$/;
const HINT = {
  integrationKey: "=<the integration key GUID from DocuSign Apps and Keys>",
  userId: "=<the impersonated admin's user GUID ('API Username')>",
} as const;

/**
 * Throws one ConfigError listing every invalid prop, so that a bad value fails `cdk synth` instead of the
 * deploy (or, like a misspelt email, never). The construct calls it first; the CDK app calls
 * `propsProblems` with `-c` names to report its context in the same list.
 */
export function validateProps(props: MonitorLakeProps): void {
  const problems = propsProblems(props);
  if (problems.length > 0) throw new ConfigError(problems);
}

/** Every problem of `props`, each naming the setting, the value and the fix. */
export function propsProblems(props: MonitorLakeProps, name: SettingName = (p) => p): string[] {
  const problems: string[] = [];
  const add = (problem: string | undefined): void => {
    if (problem !== undefined && !problems.includes(problem)) problems.push(problem);
  };
  add(guid(props.integrationKey, name("integrationKey"), "integration key"));
  add(guid(props.userId, name("userId"), "user id"));
  add(environment(props.environment, name("environment")));
  add(schedule(props.schedule, name("schedule")));
  add(redirect(props.redirectUri, name("redirectUri")));
  add(secretName(props.keySecretName, name("keySecretName")));
  if (props.alarmEmail !== undefined && !EMAIL.test(props.alarmEmail))
    add(`${name("alarmEmail")} "${props.alarmEmail}" is not an email address: use e.g. secops@example.com.`);
  add(wholeNumber(props.retentionDays, name("retentionDays"), 1, Number.MAX_SAFE_INTEGER, "days"));
  if (props.objectLock !== undefined) {
    if (!["GOVERNANCE", "COMPLIANCE"].includes(props.objectLock.mode))
      add(`${name("objectLock")} mode "${props.objectLock.mode}" must be GOVERNANCE or COMPLIANCE.`);
    add(wholeNumber(props.objectLock.days, `${name("objectLock")} days`, 1, 36500, "days"));
  }
  if (props.keyPrefix !== undefined && !KEY_PREFIX.test(props.keyPrefix))
    add(
      `${name("keyPrefix")} "${props.keyPrefix}" must be empty or S3-safe segments each ending in "/", e.g. "lake/".`,
    );
  add(wholeNumber(props.memorySize, name("memorySize"), 128, 10240, "MB"));
  if (props.timeout !== undefined && !Token.isUnresolved(props.timeout.toSeconds())) {
    const seconds = props.timeout.toSeconds();
    if (seconds < 30 || seconds > Duration.minutes(15).toSeconds())
      add(`${name("timeout")} of ${seconds} s must be from 30 seconds to Lambda's 15 minutes.`);
  }
  if (props.projectionStart !== undefined && !isDay(props.projectionStart))
    add(
      `${name("projectionStart")} "${props.projectionStart}" is not a date: give the first day to query as yyyy-MM-dd, e.g. 2020-01-01.`,
    );
  add(
    wholeNumber(
      props.bytesScannedCutoff,
      name("bytesScannedCutoff"),
      10_000_000,
      Number.MAX_SAFE_INTEGER,
      "bytes (Athena's minimum is 10 MB)",
    ),
  );
  for (const p of streamProblems(props.streams ?? [{ id: "default" }], props, name)) add(p);
  for (const p of detectionProblems(props)) add(p);
  for (const p of securityLakeProblems(props.securityLake, name("securityLake"))) add(p);
  return problems;
}

function streamProblems(
  streams: readonly MonitorStream[],
  props: MonitorLakeProps,
  name: SettingName,
): string[] {
  const problems: string[] = [];
  if (streams.length === 0) problems.push(`${name("streams")} is empty: give at least one stream.`);
  const seen = new Set<string>();
  const outputNames = new Map<string, string>();
  for (const [i, s] of streams.entries()) {
    const at = (field: string): string => name(`streams[${i}].${field}`);
    if (!STREAM_ID_PATTERN.test(s.id))
      problems.push(`${at("id")} "${s.id}": use 1-64 letters, digits, ".", "_" or "-".`);
    if (seen.has(s.id)) problems.push(`stream id "${s.id}" is used twice: each stream needs its own id.`);
    seen.add(s.id);
    // Outputs and logical ids keep only letters and digits of the id.
    const bare = s.id.replace(/[^A-Za-z0-9]/g, "");
    const clash = outputNames.get(bare);
    if (clash !== undefined && clash !== s.id)
      problems.push(
        `stream ids "${clash}" and "${s.id}" differ only in ".", "_" or "-": their outputs would clash.`,
      );
    outputNames.set(bare, s.id);
    for (const key of ["integrationKey", "userId"] as const) {
      if (s[key] !== undefined || props[key] !== undefined) continue;
      problems.push(
        streams.every((t) => t[key] === undefined)
          ? `${name(key)}${HINT[key]}`
          : `stream "${s.id}" has no ${key}: set ${at(key)} or ${name(key)}.`,
      );
    }
    const checks = [
      guid(s.integrationKey, at("integrationKey"), "integration key"),
      guid(s.userId, at("userId"), "user id"),
      guid(s.organizationId, at("organizationId"), "organization id"),
      streamApi(s, at),
      environment(s.environment, at("environment")),
      schedule(s.schedule, at("schedule")),
      redirect(s.redirectUri, at("redirectUri")),
      secretName(s.keySecretName, at("keySecretName")),
      s.startCursor !== undefined && !/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(s.startCursor)
        ? `${at("startCursor")} "${s.startCursor}" must be an ISO-8601 date-time with a zone, e.g. 2024-01-01T00:00:00Z.`
        : undefined,
      s.startCursor !== undefined && Number.isNaN(Date.parse(s.startCursor))
        ? `${at("startCursor")} "${s.startCursor}" is not a date-time.`
        : undefined,
    ];
    for (const c of checks) if (c !== undefined) problems.push(c);
  }
  return problems;
}

function detectionProblems(props: MonitorLakeProps): string[] {
  try {
    deployedRules(props.detections ?? {});
    return [];
  } catch (error) {
    // deployedRules lists its problems one per indented line after a heading.
    return (error as Error).message
      .split("\n")
      .slice(1)
      .map((l) => `detections: ${l.trim()}`);
  }
}

function guid(value: string | undefined, setting: string, what: string): string | undefined {
  if (value === undefined || GUID.test(value)) return undefined;
  return `${setting} "${value}" is not a GUID: the ${what} looks like 8-4-4-4-12 hex digits (DocuSign Apps and Keys).`;
}

function streamApi(s: MonitorStream, at: (field: string) => string): string | undefined {
  if (s.streamApi === undefined) return undefined;
  if (s.streamApi !== StreamApi.Lens && s.streamApi !== StreamApi.Organization)
    return `${at("streamApi")} "${s.streamApi}" must be lens or organization (or unset: the organization userinfo names, else lens).`;
  if (s.streamApi === StreamApi.Lens && s.organizationId !== undefined)
    return `${at("streamApi")} is lens and ${at("organizationId")} is set: the lens stream has no organization. Remove one of them.`;
  return undefined;
}

function environment(value: string | undefined, setting: string): string | undefined {
  if (value === undefined || value === "demo" || value === "production") return undefined;
  return `${setting} "${value}" must be demo or production.`;
}

function schedule(value: string | undefined, setting: string): string | undefined {
  if (value === undefined) return undefined;
  const parsed = parseSchedule(value);
  return parsed.ok ? undefined : `${setting} "${value}" ${parsed.problem}.`;
}

function redirect(value: string | undefined, setting: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol === "https:" || url.protocol === "http:") return undefined;
  } catch {
    // falls through to the problem
  }
  return `${setting} "${value}" must be an http(s) URL registered on the integration key.`;
}

function secretName(value: string | undefined, setting: string): string | undefined {
  if (value === undefined || SECRET_NAME.test(value)) return undefined;
  return `${setting} "${value}" is not a Secrets Manager secret name (letters, digits and /_+=.@-).`;
}

function wholeNumber(
  value: number | undefined,
  setting: string,
  min: number,
  max: number,
  unit: string,
): string | undefined {
  if (value === undefined || (Number.isInteger(value) && value >= min && value <= max)) return undefined;
  return `${setting} ${value} must be a whole number of ${unit} from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : " up"}.`;
}

function isDay(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

import { ENV } from "./config";
import { STREAM_ID_PATTERN } from "./core/object-key";
import { StreamApi } from "./docusign/docusign-endpoints";
import { ConfigError } from "./errors";

/**
 * A deployment's stream table: one entry per DocuSign organization (or legacy account stream), each
 * with its own user, and optionally its own integration key, environment, stream API, key and start. A
 * field an entry leaves out falls back to the deployment's setting (the environment variable of the same
 * meaning). The same JSON serves `cdk deploy -c streams=...` and the CLI's `--streams`.
 */

/** Entry fields that set one setting of the run, and the environment variable each replaces. */
export const STREAM_SETTING_ENV = {
  organizationId: ENV.organizationId,
  /** `lens` or `organization` (lambda/docusign/stream-choice.ts); unset: the one userinfo names, else lens. */
  streamApi: ENV.streamApi,
  integrationKey: ENV.integrationKey,
  userId: ENV.userId,
  environment: ENV.docusignEnv,
  startCursor: ENV.startCursor,
  oauthUrl: ENV.oauthUrl,
  monitorUrl: ENV.monitorUrl,
  redirectUri: ENV.redirectUri,
  /** The function's table only: the ARN of the stream's key secret (the construct writes it). */
  keySecret: ENV.privateKeySecret,
  /** The CLI only: the stream's private key file. */
  keyFile: ENV.privateKeyFile,
} as const;

export type StreamSetting = keyof typeof STREAM_SETTING_ENV;

/** Where a table is read: each accepts the common fields plus its own. */
export const StreamTableTarget = {
  /** The function's `STREAMS` variable, written by the construct. */
  Function: "function",
  /** `-c streams` for the CDK app. */
  Deploy: "deploy",
  /** The CLI's `--streams`. */
  Local: "local",
} as const;
export type StreamTableTarget = (typeof StreamTableTarget)[keyof typeof StreamTableTarget];

/** Deploy-time fields: the CLI reads the same file and skips them. */
const DEPLOY_ONLY = ["keySecretName", "schedule"] as const;

/** Host overrides (a simulator, a proxy) exist for the function and the CLI, not for a deployment. */
const HOSTS = ["oauthUrl", "monitorUrl"] as const;

/** Per target, the fields besides the common ones; `keyFile` in a deploy file is skipped too. */
const ACCEPTED: Readonly<Record<StreamTableTarget, readonly string[]>> = {
  function: ["keySecret", ...HOSTS],
  deploy: [...DEPLOY_ONLY, "keyFile"],
  local: [...DEPLOY_ONLY, "keyFile", ...HOSTS],
};
const COMMON = [
  "organizationId",
  "streamApi",
  "integrationKey",
  "userId",
  "environment",
  "startCursor",
  "redirectUri",
] as const;

export interface StreamEntry {
  readonly id: string;
  readonly organizationId?: string;
  readonly streamApi?: StreamApi;
  readonly integrationKey?: string;
  readonly userId?: string;
  readonly environment?: string;
  readonly startCursor?: string;
  readonly oauthUrl?: string;
  readonly monitorUrl?: string;
  readonly redirectUri?: string;
  readonly keySecret?: string;
  readonly keyFile?: string;
  readonly keySecretName?: string;
  readonly schedule?: string;
}

/**
 * Parses a stream table (a JSON array of entries); `source` names where it came from in messages.
 * Throws one ConfigError listing every problem: not JSON, not a non-empty array, an id that is missing,
 * invalid or repeated, a field that is not a non-empty string, or a field the target does not know, a
 * `streamApi` other than "lens" or "organization", and "lens" with an `organizationId`.
 */
export function parseStreamTable(text: string, source: string, target: StreamTableTarget): StreamEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([
      `${source} is not valid JSON (${(error as Error).message}): use e.g. [{"id":"org-a","userId":"<GUID>","organizationId":"<GUID>"}].`,
    ]);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new ConfigError([
      `${source} must be a non-empty JSON array of streams, e.g. [{"id":"org-a","userId":"<GUID>"}].`,
    ]);
  }
  const known = new Set<string>(["id", ...COMMON, ...ACCEPTED[target]]);
  const problems: string[] = [];
  const seen = new Set<string>();
  const entries: StreamEntry[] = [];
  parsed.forEach((item: unknown, index) => {
    const where = `${source}[${index}]`;
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      problems.push(`${where} must be an object with at least an "id".`);
      return;
    }
    const record = item as Record<string, unknown>;
    const id = record.id;
    if (typeof id !== "string" || !STREAM_ID_PATTERN.test(id)) {
      problems.push(
        `${where}.id is ${JSON.stringify(id) ?? "missing"}: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit.`,
      );
    } else if (seen.has(id)) {
      problems.push(
        `${where}.id "${id}" is used twice: each stream needs its own id (its state and objects).`,
      );
    } else seen.add(id);
    for (const [field, value] of Object.entries(record)) {
      if (field === "id") continue;
      if (!known.has(field)) {
        problems.push(`${where}.${field} is not a stream setting here: use ${[...known].join(", ")}.`);
      } else if (typeof value !== "string" || value.trim() === "") {
        problems.push(`${where}.${field} must be a non-empty string.`);
      }
    }
    const problem = streamApiProblem(record, where);
    if (problem !== undefined) problems.push(problem);
    entries.push(Object.freeze({ ...(record as unknown as StreamEntry) }));
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return entries;
}

/** What is wrong with an entry's `streamApi`, if anything (a non-string is reported with the other fields). */
function streamApiProblem(record: Record<string, unknown>, where: string): string | undefined {
  const { streamApi, organizationId, id } = record;
  if (typeof streamApi !== "string" || streamApi.trim() === "") return undefined;
  const stream = typeof id === "string" ? ` (stream "${id}")` : "";
  if (streamApi !== StreamApi.Lens && streamApi !== StreamApi.Organization) {
    return (
      `${where}.streamApi is ${JSON.stringify(streamApi)}${stream}: use "lens" (the legacy lens stream, e.g. ` +
      'for a state holding a lens cursor) or "organization", or leave it out to read the organization ' +
      "userinfo names (else the lens stream)."
    );
  }
  if (streamApi === StreamApi.Lens && organizationId !== undefined) {
    return (
      `${where}.streamApi is "lens" and ${where}.organizationId is set${stream}: the lens stream has no ` +
      "organization. Remove one of them."
    );
  }
  return undefined;
}

/** The stream table of a run's settings: `STREAMS`, or else the one stream `STREAM_ID` (default "default"). */
export function streamTableFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  target: StreamTableTarget,
): StreamEntry[] {
  const text = env[ENV.streams]?.trim();
  if (text === undefined || text === "") return [{ id: env[ENV.stream]?.trim() || "default" }];
  return parseStreamTable(text, ENV.streams, target);
}

/** The stream an invocation or run without a stream id serves: `STREAM_ID`, else the table's first. */
export function defaultStreamId(
  env: Readonly<Record<string, string | undefined>>,
  table: readonly StreamEntry[],
): string {
  return env[ENV.stream]?.trim() || table[0]?.id || "default";
}

/** The entry of stream `id`; an unknown id is a ConfigError listing the ids the table has. */
export function findStream(table: readonly StreamEntry[], id: string, fix: string): StreamEntry {
  const entry = table.find((e) => e.id === id);
  if (entry) return entry;
  throw new ConfigError([
    `unknown stream "${id}": the streams configured are ${table.map((e) => `"${e.id}"`).join(", ")}. ${fix}`,
  ]);
}

/** The settings of one stream: the deployment's, with the entry's fields in place of theirs. */
export function streamEnv(
  env: Readonly<Record<string, string | undefined>>,
  entry: StreamEntry,
): Record<string, string | undefined> {
  const merged: Record<string, string | undefined> = { ...env, [ENV.stream]: entry.id };
  for (const [field, name] of Object.entries(STREAM_SETTING_ENV)) {
    const value = entry[field as StreamSetting];
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}

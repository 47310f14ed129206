import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type ConfigTarget, ENV, type MonitorLakeConfig, parseConfig } from "../config";
import { ConfigError } from "../errors";
import { findStream, parseStreamTable, StreamTableTarget, streamEnv } from "../streams";

/** CLI flags that stand for environment variables. */
export const FLAG_ENV: Readonly<Record<string, string>> = {
  env: ENV.docusignEnv,
  "organization-id": ENV.organizationId,
  "stream-api": ENV.streamApi,
  "monitor-url": ENV.monitorUrl,
  "oauth-url": ENV.oauthUrl,
  "integration-key": ENV.integrationKey,
  "user-id": ENV.userId,
  "key-file": ENV.privateKeyFile,
  stream: ENV.stream,
  start: ENV.startCursor,
  limit: ENV.pageLimit,
  "redirect-uri": ENV.redirectUri,
  "rate-limit-reserve": ENV.rateLimitReserve,
  "chunk-max-bytes": ENV.chunkMaxBytes,
  "max-response-bytes": ENV.maxResponseBytes,
  "chunk-max-age": ENV.chunkMaxAgeSeconds,
};

/** The flags given that stand for environment variables, keyed by the variable's name. */
export function settingsFromFlags(
  values: Record<string, string | boolean | undefined>,
): Record<string, string> {
  const fromFlags: Record<string, string> = {};
  for (const [flag, name] of Object.entries(FLAG_ENV)) {
    const value = values[flag];
    if (typeof value === "string") fromFlags[name] = value;
  }
  return fromFlags;
}

/**
 * The settings of a run: the environment, then (with a stream table from `--streams` or STREAMS) the
 * chosen stream's fields, then the flags. A key file named in the table is relative to the table's file.
 */
export function withStream(
  env: NodeJS.ProcessEnv,
  fromFlags: Record<string, string>,
  streamsFile: string | undefined,
): Record<string, string | undefined> {
  const base: Record<string, string | undefined> = { ...env, ...fromFlags };
  if (streamsFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(streamsFile, "utf8");
    } catch (error) {
      throw new ConfigError([
        `--streams "${streamsFile}" cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): name a JSON file with the stream table.`,
      ]);
    }
    base[ENV.streams] = text;
  }
  if (!base[ENV.streams]?.trim()) return base;
  const source = streamsFile === undefined ? ENV.streams : `--streams ${streamsFile}`;
  const table = parseStreamTable(base[ENV.streams] ?? "", source, StreamTableTarget.Local);
  const chosen = base[ENV.stream]?.trim();
  if (chosen === undefined || chosen === "") {
    if (table.length > 1) {
      throw new ConfigError([
        `${source} has ${table.length} streams: pick one with --stream (${table.map((e) => e.id).join(", ")}).`,
      ]);
    }
  }
  const entry = findStream(table, chosen || (table[0]?.id ?? ""), "Pass --stream with one of them.");
  const keyFile =
    entry.keyFile !== undefined && streamsFile !== undefined
      ? resolve(dirname(streamsFile), entry.keyFile)
      : entry.keyFile;
  return { ...streamEnv(env, { ...entry, ...(keyFile === undefined ? {} : { keyFile }) }), ...fromFlags };
}

/** DocuSign's user ids and integration keys are GUIDs (8-4-4-4-12 hex digits). */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The run's config (`target` local: a key file; aws: secret, bucket, table): `parseConfig` plus what can be checked before any request, that the user
 * id and the integration key are GUIDs. Every problem is reported at once.
 */
export function parseRunConfig(
  settings: Record<string, string | undefined>,
  target: ConfigTarget = "local",
): MonitorLakeConfig {
  const problems: string[] = [];
  for (const [name, what] of [
    [ENV.integrationKey, "the integration key (Apps and Keys, 'Integration Key')"],
    [ENV.userId, "the impersonated user's GUID (Apps and Keys, 'API Username')"],
  ] as const) {
    const value = settings[name]?.trim();
    // An email address gets parseConfig's own message.
    if (value && !value.includes("@") && !GUID.test(value)) {
      problems.push(
        `${name} is "${value}", not a GUID: use ${what}, such as 1b2c3d4e-0000-4000-8000-00000000abcd.`,
      );
    }
  }
  let config: MonitorLakeConfig | undefined;
  try {
    config = parseConfig(settings, target);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (config === undefined || problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * The same error with each problem about a variable the user set with a flag naming that flag:
 * `PAGE_LIMIT is "0": ... (set by --limit)` to someone who typed `--limit 0`.
 */
export function namingFlags(error: ConfigError, fromFlags: Record<string, string>): ConfigError {
  const flagOf = new Map(Object.entries(FLAG_ENV).map(([flag, name]) => [name, flag]));
  let changed = false;
  const problems = error.problems.map((problem) => {
    const name = /^[A-Z][A-Z0-9_]*/.exec(problem)?.[0];
    const flag = name === undefined ? undefined : flagOf.get(name);
    if (name === undefined || flag === undefined || !(name in fromFlags)) return problem;
    changed = true;
    return `${problem} (set by --${flag})`;
  });
  return changed ? new ConfigError(problems) : error;
}

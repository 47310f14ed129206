import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ENV } from "../config";
import { ConfigError } from "../errors";
import { findStream, parseStreamTable, StreamTableTarget, streamEnv } from "../streams";

/** CLI flags that stand for environment variables. */
export const FLAG_ENV: Readonly<Record<string, string>> = {
  env: ENV.docusignEnv,
  "organization-id": ENV.organizationId,
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

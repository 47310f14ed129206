import type { KeyObject } from "node:crypto";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { createSecretKeySource, type KeySource } from "../aws/secret-key-source";
import { type MonitorLakeConfig, parseConfig } from "../config";
import type { Clock } from "../core/ports";
import { DocuSignClient, type DocuSignClientOptions } from "../docusign/docusign-client";
import { ConfigError } from "../errors";
import { defaultStreamId, StreamTableTarget, streamEnv, streamTableFromEnv } from "../streams";

/** The DocuSign client's retry timing a caller may set. */
export type DocuSignTiming = Pick<
  DocuSignClientOptions,
  "sleep" | "random" | "baseDelayMs" | "maxDelayMs" | "requestTimeoutMs" | "maxAttempts"
>;

/** One stream's DocuSign client, the key it was built with, and what it counted in this invocation. */
export interface ClientEntry {
  readonly client: DocuSignClient;
  readonly key: KeyObject;
  readonly counts: { retries: number; throttled: number };
}

export interface StreamRuntimeOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly secrets: SecretsManagerClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly fetch?: typeof fetch;
  readonly keyTtlMs?: number;
  readonly docusignTiming?: DocuSignTiming;
}

/** What a warm container keeps per stream: its parsed config, its key source and its DocuSign client. */
export interface StreamRuntimes {
  /** The stream's config (`undefined`: the default stream); throws the stream's or the table's ConfigError. */
  config(stream: string | undefined): MonitorLakeConfig;
  keySource(stream: string, secretId: string): KeySource;
  /** The stream's client for `key`: reused while the key is the same, rebuilt when it rotated. */
  client(config: MonitorLakeConfig, key: KeyObject): ClientEntry;
}

/**
 * Parsed once at init, per stream: an invalid stream fails its own invocations with the full list of
 * problems and leaves the others running; an invalid table fails every invocation. Keys and clients
 * are per stream, so that one organization's key, token and rate-limit budget never touch another's.
 */
export function createStreamRuntimes(options: StreamRuntimeOptions): StreamRuntimes {
  const { configs, tableError, defaultStream } = parseStreamConfigs(options.env);
  const keySources = new Map<string, KeySource>();
  const clients = new Map<string, ClientEntry>();
  return {
    config(stream) {
      if (tableError) throw tableError;
      const id = stream ?? defaultStream;
      const config = configs.get(id);
      if (config === undefined) {
        const known = [...configs.keys()].map((k) => `"${k}"`).join(", ");
        throw new ConfigError([
          `unknown stream "${id}": this deployment serves ${known}. Invoke it with one of them, or add the ` +
            "stream to the construct's streams (-c streams) and deploy.",
        ]);
      }
      if (config instanceof ConfigError) throw config;
      return config;
    },
    keySource(stream, secretId) {
      let source = keySources.get(stream);
      if (!source) {
        source = createSecretKeySource({
          secrets: options.secrets,
          secretId,
          clock: options.clock,
          ...(options.keyTtlMs === undefined ? {} : { ttlMs: options.keyTtlMs }),
        });
        keySources.set(stream, source);
      }
      return source;
    },
    client(config, key) {
      const existing = clients.get(config.stream);
      if (existing && existing.key === key) return existing;
      const entry = createClientEntry(options, config, key);
      clients.set(config.stream, entry);
      return entry;
    },
  };
}

function parseStreamConfigs(env: Readonly<Record<string, string | undefined>>): {
  readonly configs: Map<string, MonitorLakeConfig | ConfigError>;
  readonly tableError?: ConfigError;
  readonly defaultStream: string;
} {
  const configs = new Map<string, MonitorLakeConfig | ConfigError>();
  try {
    const table = streamTableFromEnv(env, StreamTableTarget.Function);
    const defaultStream = defaultStreamId(env, table);
    for (const entry of table) {
      try {
        configs.set(entry.id, parseConfig(streamEnv(env, entry), "aws"));
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        configs.set(entry.id, error);
      }
    }
    return { configs, defaultStream };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { configs, tableError: error, defaultStream: "default" };
  }
}

function createClientEntry(
  options: StreamRuntimeOptions,
  config: MonitorLakeConfig,
  key: KeyObject,
): ClientEntry {
  const { logger } = options;
  const d = config.docusign;
  const counts = { retries: 0, throttled: 0 };
  const client = new DocuSignClient({
    ...d,
    limit: d.pageLimit,
    privateKey: key,
    clock: options.clock,
    ...options.docusignTiming,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    onEvent: (event) => {
      if (event.type === "retry") {
        counts.retries++;
        logger.warn("DocuSign request retried", {
          request: event.request,
          reason: event.reason,
          delayMs: event.delayMs,
        });
      }
      if (event.type === "throttled") counts.throttled++;
      // A 401 answered by one re-authentication is routine (token revoked or expired early): logged, not
      // counted. AuthFailures counts runs that DocuSign's authentication stopped.
      if (event.type === "auth-failure")
        logger.info("DocuSign token refused; re-authenticated", { request: event.request });
    },
  });
  return { client, key, counts };
}

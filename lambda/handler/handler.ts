import type { KeyObject } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { createDynamoStateStore } from "../aws/dynamo-state-store";
import { keyRotatingSource } from "../aws/key-rotating-source";
import { createS3Sink } from "../aws/s3-sink";
import { createSecretKeySource, type KeySource } from "../aws/secret-key-source";
import { type MonitorLakeConfig, parseConfig } from "../config";
import type { Clock } from "../core/ports";
import { type RunSummary, runIngest } from "../core/run-ingest";
import { createLambdaDetections } from "../detections/emit";
import { DocuSignClient, type DocuSignClientOptions } from "../docusign/docusign-client";
import { ConfigError, describeError, ErrorCode, LeaseHeldError, MonitorLakeError } from "../errors";
import { defaultStreamId, StreamTableTarget, streamEnv, streamTableFromEnv } from "../streams";

/**
 * The scheduled Lambda: design steps 1-9 with the AWS adapters behind the same core as the CLI.
 * Config is parsed and clients are created once per container; the DocuSign client (and its token)
 * and the private key are reused while the container is warm.
 */

/**
 * What EventBridge Scheduler sends: a stream id and nothing else. Everything that decides whom the
 * function impersonates (organization, user, integration key, key secret, environment, start) is in
 * the deployment's stream table (`STREAMS`), so being allowed to invoke the function is not being
 * allowed to choose the user; any other field is refused.
 */
export interface InvocationPayload {
  /** One of the stream table's ids. @default STREAM_ID, else the table's first */
  readonly stream?: string;
}

/** The part of the Lambda context the handler uses. */
export interface LambdaContextLike {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

export interface LeaseHeldResult {
  readonly stream: string;
  readonly leaseHeld: true;
  readonly holder?: string;
  readonly message: string;
}

export type HandlerResult =
  | (RunSummary & { readonly retries: number; readonly throttled: number })
  | LeaseHeldResult;

export interface HandlerDependencies {
  /** The Lambda's environment variables. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly s3: S3Client;
  readonly dynamo: DynamoDBClient;
  readonly secrets: SecretsManagerClient;
  readonly fetch?: typeof fetch;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /** How long a private key read is reused. @default 5 minutes */
  readonly keyTtlMs?: number;
  /** The DocuSign client's retry timing. @default the client's own (1 s first backoff, 60 s per request) */
  readonly docusignTiming?: Pick<
    DocuSignClientOptions,
    "sleep" | "random" | "baseDelayMs" | "maxDelayMs" | "requestTimeoutMs" | "maxAttempts"
  >;
}

/**
 * Time kept free at the end of the invocation, chosen for the worst case of the final steps:
 * - `EXIT_MARGIN_MS` after the run's deadline: lease release, metrics flush and the return.
 * - `FLUSH_RESERVE_MS` before it: gzip of the last chunk (32 MiB of NDJSON, under a second), its
 *   PutObjects (a few MB) and the DynamoDB commit, with the SDK's own retries.
 * Short invocations (tests, tiny timeouts) scale both down to a share of the time remaining.
 *
 * The hard stop aborts DocuSign requests only, at the start of the flush reserve. Storage (the
 * PutObjects, the commit, the lease release) is never aborted by the handler: cutting a commit whose
 * objects are written gains nothing, and if the invocation's own timeout cuts it, that is a crash the
 * next run recovers from. The reserve and the exit margin together are the time the commit has.
 */
export const EXIT_MARGIN_MS = 5_000;
export const FLUSH_RESERVE_MS = 20_000;

/** The payload's only field. */
const PAYLOAD_FIELDS: readonly (keyof InvocationPayload)[] = ["stream"];

interface ClientEntry {
  readonly client: DocuSignClient;
  readonly key: KeyObject;
  readonly counts: { retries: number; throttled: number };
}

export function createHandler(
  deps: HandlerDependencies,
): (event: unknown, context: LambdaContextLike) => Promise<HandlerResult> {
  const clock = deps.clock ?? { now: () => Date.now() };
  const logger = deps.logger ?? new Logger({ serviceName: "monitor-lake" });
  const metrics = deps.metrics ?? new Metrics({ namespace: "MonitorLake", serviceName: "monitor-lake" });
  // Dimensioned by stream only: drop Powertools' default `service` dimension.
  metrics.clearDefaultDimensions();
  const detections = createLambdaDetections({ env: deps.env, logger, metrics, clock });
  // Parsed once at init, per stream: an invalid stream fails its own invocations with the full list of
  // problems and leaves the others running; an invalid table fails every invocation.
  const streamConfigs = new Map<string, MonitorLakeConfig | ConfigError>();
  let tableError: ConfigError | undefined;
  let defaultStream = "default";
  try {
    const table = streamTableFromEnv(deps.env, StreamTableTarget.Function);
    defaultStream = defaultStreamId(deps.env, table);
    for (const entry of table) {
      try {
        streamConfigs.set(entry.id, parseConfig(streamEnv(deps.env, entry), "aws"));
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        streamConfigs.set(entry.id, error);
      }
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    tableError = error;
  }
  // Per stream, so that one organization's key, token and rate-limit budget never touch another's.
  const keySources = new Map<string, KeySource>();
  const clients = new Map<string, ClientEntry>();

  const configFor = (event: unknown): MonitorLakeConfig => {
    if (event !== undefined && event !== null && (typeof event !== "object" || Array.isArray(event))) {
      throw new ConfigError([
        `the invocation payload is ${Array.isArray(event) ? "an array" : typeof event}: send a JSON object such as {"stream": "<id>"}.`,
      ]);
    }
    const payload = (event ?? {}) as Record<string, unknown>;
    const refused = Object.keys(payload).filter((f) => !(PAYLOAD_FIELDS as readonly string[]).includes(f));
    if (refused.length > 0) {
      throw new ConfigError([
        `the invocation payload has ${refused.map((f) => `"${f}"`).join(", ")}, which is refused: it may name a ` +
          `stream ({"stream": "<id>"}) and nothing else. A stream's organization, user, integration key, key ` +
          "secret, environment and start are set in the deployment's stream table (the construct's streams, " +
          "-c streams), so that whoever may invoke the function cannot choose whom it impersonates. Remove " +
          "the field, or change the stream's settings and deploy.",
      ]);
    }
    if (payload.stream !== undefined && typeof payload.stream !== "string") {
      throw new ConfigError(['the payload field "stream" must be a string: a stream id of the deployment.']);
    }
    if (tableError) throw tableError;
    const id = payload.stream ?? defaultStream;
    const config = streamConfigs.get(id);
    if (config === undefined) {
      const known = [...streamConfigs.keys()].map((k) => `"${k}"`).join(", ");
      throw new ConfigError([
        `unknown stream "${id}": this deployment serves ${known}. Invoke it with one of them, or add the ` +
          "stream to the construct's streams (-c streams) and deploy.",
      ]);
    }
    if (config instanceof ConfigError) throw config;
    return config;
  };

  const keySourceFor = (stream: string, secretId: string): KeySource => {
    let source = keySources.get(stream);
    if (!source) {
      source = createSecretKeySource({
        secrets: deps.secrets,
        secretId,
        clock,
        ...(deps.keyTtlMs === undefined ? {} : { ttlMs: deps.keyTtlMs }),
      });
      keySources.set(stream, source);
    }
    return source;
  };

  const clientFor = (config: MonitorLakeConfig, key: KeyObject): ClientEntry => {
    const d = config.docusign;
    const id = config.stream;
    const existing = clients.get(id);
    if (existing && existing.key === key) return existing;
    const counts = { retries: 0, throttled: 0 };
    const client = new DocuSignClient({
      ...d,
      limit: d.pageLimit,
      privateKey: key,
      clock,
      ...deps.docusignTiming,
      ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
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
    const entry = { client, key, counts };
    clients.set(id, entry);
    return entry;
  };

  return async (event, context) => {
    const started = clock.now();
    const remaining = context.getRemainingTimeInMillis();
    const exitMargin = Math.floor(Math.min(EXIT_MARGIN_MS, remaining * 0.1));
    const deadline = started + remaining - exitMargin;
    const flushReserveMs = Math.floor(Math.min(FLUSH_RESERVE_MS, remaining * 0.3));
    // In-flight DocuSign requests are aborted when fetching must end (invariant 4); storage is not.
    const fetchStop = AbortSignal.timeout(Math.max(1, Math.floor(remaining - exitMargin - flushReserveMs)));
    let stream = "unknown";
    try {
      const config = configFor(event);
      stream = config.stream;
      logger.appendKeys({ stream });
      metrics.addDimension("stream", stream);
      if (!("secretId" in config.privateKey) || !config.aws) throw new Error("aws configuration expected");
      const keys = keySourceFor(stream, config.privateKey.secretId);
      const used: ClientEntry[] = [];
      const entryFor = (key: KeyObject): ClientEntry => {
        const entry = clientFor(config, key);
        if (!used.includes(entry)) {
          entry.counts.retries = 0;
          entry.counts.throttled = 0;
          used.push(entry);
        }
        return entry;
      };
      const source = keyRotatingSource({
        keys,
        key: await keys.privateKey(fetchStop),
        sourceFor: (key) => {
          const { client } = entryFor(key);
          return {
            fetchPage: (request) =>
              client.fetchPage({
                ...request,
                signal: request.signal ? AbortSignal.any([request.signal, fetchStop]) : fetchStop,
              }),
          };
        },
        signal: fetchStop,
        onRotated: () =>
          logger.info("DocuSign refused the assertion; the secret holds a new key, retrying with it"),
      });
      const summary = await runIngest(
        {
          source,
          observer: detections.observer(stream),
          sink: createS3Sink({ s3: deps.s3, bucket: config.aws.bucket, prefix: config.aws.keyPrefix }),
          state: createDynamoStateStore({ dynamo: deps.dynamo, table: config.aws.stateTable }),
          clock,
          reporter: {
            page: (p) => logger.debug("page", { pages: p.pages, pageEvents: p.pageEvents, events: p.events }),
            committed: (c) =>
              logger.info("chunk committed", { objects: c.keys.length, events: c.events, bytes: c.bytes }),
            warning: (message) => logger.warn(message),
          },
        },
        {
          stream,
          owner: `lambda-${context.awsRequestId}`,
          ...(config.startCursor === undefined ? {} : { startCursor: config.startCursor }),
          deadline,
          flushReserveMs,
          chunkMaxBytes: config.chunkMaxBytes,
          chunkMaxAgeMs: config.chunkMaxAgeSeconds * 1000,
          rateLimitReserve: config.rateLimitReserve,
        },
      );
      const counts = {
        retries: used.reduce((n, e) => n + e.counts.retries, 0),
        throttled: used.reduce((n, e) => n + e.counts.throttled, 0),
      };
      const lagSeconds =
        summary.caughtUp || summary.newestEventTime === undefined
          ? 0
          : Math.max(0, (clock.now() - Date.parse(summary.newestEventTime)) / 1000);
      metrics.addMetric("EventsIngested", MetricUnit.Count, summary.events);
      metrics.addMetric("Pages", MetricUnit.Count, summary.pages);
      metrics.addMetric("ObjectsWritten", MetricUnit.Count, summary.objects);
      metrics.addMetric("BytesWritten", MetricUnit.Bytes, summary.bytes);
      metrics.addMetric("Retries", MetricUnit.Count, counts.retries);
      metrics.addMetric("Throttled", MetricUnit.Count, counts.throttled);
      metrics.addMetric("AuthFailures", MetricUnit.Count, 0);
      metrics.addMetric("LeaseHeld", MetricUnit.Count, 0);
      metrics.addMetric("CaughtUp", MetricUnit.Count, summary.caughtUp ? 1 : 0);
      metrics.addMetric("IngestLagSeconds", MetricUnit.Seconds, Math.round(lagSeconds));
      const result = { ...summary, retries: counts.retries, throttled: counts.throttled };
      logger.info("run finished", { summary: result });
      return result;
    } catch (error) {
      if (error instanceof LeaseHeldError) {
        metrics.addMetric("LeaseHeld", MetricUnit.Count, 1);
        logger.info("lease held by another run", { holder: error.holder, leaseUntil: error.expiresAt });
        return {
          stream,
          leaseHeld: true,
          ...(error.holder === undefined ? {} : { holder: error.holder }),
          message: error.message,
        };
      }
      const code = error instanceof MonitorLakeError ? error.code : "UNEXPECTED";
      if (code === ErrorCode.AuthFailed || code === ErrorCode.ConsentRequired) {
        metrics.addMetric("AuthFailures", MetricUnit.Count, 1);
      }
      logger.error("run failed", { code, error: describeError(error) });
      throw error;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      else metrics.clearDimensions();
      logger.removeKeys(["stream"]);
    }
  };
}

/** The entry point named in the function's configuration: `handler.handler`. */
export const handler = createHandler({
  env: process.env,
  s3: new S3Client({}),
  dynamo: new DynamoDBClient({}),
  secrets: new SecretsManagerClient({}),
});

import { type KeyObject, randomBytes } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { createDynamoRateLimitStore } from "../aws/dynamo-rate-limit-store";
import { createDynamoStateStore } from "../aws/dynamo-state-store";
import { keyRotatingSource } from "../aws/key-rotating-source";
import { createS3LakeReader } from "../aws/s3-lake-reader";
import { createS3Sink } from "../aws/s3-sink";
import type { MonitorLakeConfig } from "../config";
import type { Clock, EventSource } from "../core/ports";
import type { RecoverySummary } from "../core/recover-stream";
import { type RunSummary, runIngest } from "../core/run-ingest";
import { createLambdaDetections } from "../detections/emit";
import type { StreamApi } from "../docusign/docusign-endpoints";
import { rateLimitScope } from "../docusign/rate-limit-scope";
import { parseInvocationPayload } from "./invocation-payload";
import { invocationTime } from "./invocation-time";
import { recoverInvocation } from "./recover-invocation";
import { type LeaseHeldResult, mapRunFailure } from "./run-failure";
import { flushRunMetrics, recordRunMetrics } from "./run-metrics";
import {
  type ClientEntry,
  createStreamRuntimes,
  type DocuSignTiming,
  type StreamRuntimes,
} from "./stream-runtimes";

/**
 * The scheduled Lambda: design steps 1-9 with the AWS adapters behind the same core as the CLI.
 * Config is parsed and clients are created once per container; the DocuSign client (and its token)
 * and the private key are reused while the container is warm.
 */

export type { InvocationPayload } from "./invocation-payload";
export { EXIT_MARGIN_MS, FLUSH_RESERVE_MS } from "./invocation-time";
export type { LeaseHeldResult } from "./run-failure";

/** The part of the Lambda context the handler uses. */
export interface LambdaContextLike {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

export type HandlerResult =
  | (RunSummary & {
      readonly retries: number;
      readonly throttled: number;
      /** The Monitor stream API read, once a page was asked for. */
      readonly streamApi?: StreamApi;
    })
  | LeaseHeldResult
  | RecoverySummary;

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
  readonly docusignTiming?: DocuSignTiming;
}

export function createHandler(
  deps: HandlerDependencies,
): (event: unknown, context: LambdaContextLike) => Promise<HandlerResult> {
  const clock = deps.clock ?? { now: () => Date.now(), monotonic: () => performance.now() };
  const logger = deps.logger ?? new Logger({ serviceName: "monitor-lake" });
  const metrics = deps.metrics ?? new Metrics({ namespace: "MonitorLake", serviceName: "monitor-lake" });
  // Dimensioned by stream only: drop Powertools' default `service` dimension.
  metrics.clearDefaultDimensions();
  const detections = createLambdaDetections({ env: deps.env, logger, metrics, clock });
  const runtimes = createStreamRuntimes({
    env: deps.env,
    secrets: deps.secrets,
    clock,
    logger,
    ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
    ...(deps.keyTtlMs === undefined ? {} : { keyTtlMs: deps.keyTtlMs }),
    ...(deps.docusignTiming === undefined ? {} : { docusignTiming: deps.docusignTiming }),
  });

  return async (event, context) => {
    const time = invocationTime(clock.now(), context.getRemainingTimeInMillis());
    let stream = "unknown";
    try {
      const payload = parseInvocationPayload(event);
      const config = runtimes.config(payload.stream);
      stream = config.stream;
      logger.appendKeys({ stream });
      metrics.addDimension("stream", stream);
      if (payload.recover === true) {
        return await recoverInvocation(config, { ...deps, clock, logger }, payload.force === true);
      }
      if (!("secretId" in config.privateKey) || !config.aws) throw new Error("aws configuration expected");
      const used: ClientEntry[] = [];
      const source = await streamSource(
        runtimes,
        config,
        config.privateKey.secretId,
        used,
        time.fetchStop,
        logger,
      );
      const summary = await runIngest(
        {
          source,
          observer: detections.observer(stream),
          sink: createS3Sink({ s3: deps.s3, bucket: config.aws.bucket, prefix: config.aws.keyPrefix }),
          lake: createS3LakeReader({ s3: deps.s3, bucket: config.aws.bucket, prefix: config.aws.keyPrefix }),
          state: createDynamoStateStore({ dynamo: deps.dynamo, table: config.aws.stateTable }),
          rateLimits: createDynamoRateLimitStore({ dynamo: deps.dynamo, table: config.aws.stateTable }),
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
          // Unique per run instance: AWS may deliver one event twice, with the same request id.
          owner: `lambda-${context.awsRequestId}-${randomBytes(4).toString("hex")}`,
          ...(config.startCursor === undefined ? {} : { startCursor: config.startCursor }),
          deadline: time.deadline,
          flushReserveMs: time.flushReserveMs,
          chunkMaxBytes: config.chunkMaxBytes,
          chunkMaxAgeMs: config.chunkMaxAgeSeconds * 1000,
          rateLimitReserve: config.rateLimitReserve,
          rateLimitScope: rateLimitScope(config.docusign),
        },
      );
      const counts = {
        retries: used.reduce((n, e) => n + e.counts.retries, 0),
        throttled: used.reduce((n, e) => n + e.counts.throttled, 0),
      };
      recordRunMetrics(metrics, clock, summary, counts);
      const streamApi = used.at(-1)?.client.streamApi;
      const result = {
        ...summary,
        retries: counts.retries,
        throttled: counts.throttled,
        ...(streamApi === undefined ? {} : { streamApi }),
      };
      logger.info("run finished", { summary: result });
      return result;
    } catch (error) {
      return mapRunFailure(error, stream, { logger, metrics });
    } finally {
      flushRunMetrics(metrics);
      logger.removeKeys(["stream"]);
    }
  };
}

/**
 * The stream's events through its cached DocuSign client, rebuilt with the secret's new key when
 * DocuSign refuses the assertion. Every client the run uses is listed in `used`, its counts reset.
 */
async function streamSource(
  runtimes: StreamRuntimes,
  config: MonitorLakeConfig,
  secretId: string,
  used: ClientEntry[],
  fetchStop: AbortSignal,
  logger: Logger,
): Promise<EventSource> {
  const keys = runtimes.keySource(config.stream, secretId);
  const entryFor = (key: KeyObject): ClientEntry => {
    const entry = runtimes.client(config, key);
    if (!used.includes(entry)) {
      entry.counts.retries = 0;
      entry.counts.throttled = 0;
      used.push(entry);
    }
    return entry;
  };
  return keyRotatingSource({
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
}

/** The entry point named in the function's configuration: `handler.handler`. */
export const handler = createHandler({
  env: process.env,
  s3: new S3Client({}),
  dynamo: new DynamoDBClient({}),
  secrets: new SecretsManagerClient({}),
});

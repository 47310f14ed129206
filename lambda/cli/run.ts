import { randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { resolve } from "node:path";
import type { MonitorLakeConfig } from "../config";
import type { Clock, Reporter } from "../core/ports";
import { type RunSummary, runIngest } from "../core/run-ingest";
import type { DetectionSettings } from "../detections/rules";
import { createRunDetections } from "../detections/run-detections";
import { DocuSignClient, type DocuSignClientEvent } from "../docusign/docusign-client";
import type { StreamApi } from "../docusign/docusign-endpoints";
import { parsePrivateKey } from "../docusign/private-key";
import { rateLimitScope } from "../docusign/rate-limit-scope";
import { quoteUntrusted } from "../docusign/untrusted-text";
import { ErrorCode, PrivateKeyError } from "../errors";
import { createDirectorySink } from "../local/directory-sink";
import { createFileRateLimitStore } from "../local/file-rate-limit-store";
import { createFileStateStore } from "../local/file-state-store";

/** The run summary plus what the DocuSign client counted. */
export interface LocalRunSummary extends RunSummary {
  readonly retries: number;
  readonly throttled: number;
  /** Absolute path of the lake's root. */
  readonly out: string;
  /** The Monitor stream API read: `organization` or `lens`; absent when no page was asked for. */
  readonly streamApi?: StreamApi;
  /** Matches per detection rule among the events this run stored. */
  readonly detections: Record<string, number>;
  /** Events the detections could not match (they are stored all the same). */
  readonly detectionErrors: number;
}

export interface LocalRunOptions {
  readonly config: MonitorLakeConfig;
  /** The lake's root directory. */
  readonly out: string;
  /** Stop cleanly within this many seconds. @default none: until caught up */
  readonly budgetSeconds?: number;
  readonly reporter?: Reporter;
  readonly onClientEvent?: (event: DocuSignClientEvent) => void;
  /** Stops the run early, committing what was stored (Ctrl-C). */
  readonly signal?: AbortSignal;
  readonly fetch?: typeof fetch;
  readonly clock?: Clock;
  /** Warnings that are not errors (for example a key file others can read). */
  readonly warn?: (message: string) => void;
  /** Detection settings (country allow-list, rules off). @default the default rules, no allow-list */
  readonly detections?: DetectionSettings;
}

/** One ingest run on a laptop: key file, directory lake, state file. */
export async function runLocalIngest(options: LocalRunOptions): Promise<LocalRunSummary> {
  const { config } = options;
  const clock = options.clock ?? { now: () => Date.now(), monotonic: () => performance.now() };
  const root = resolve(options.out);
  if (!("file" in config.privateKey)) throw new Error("a local run reads its key from a file");
  const privateKey = await readKeyFile(config.privateKey.file, options.warn);
  const counts = { retries: 0, throttled: 0 };
  const source = new DocuSignClient({
    ...config.docusign,
    limit: config.docusign.pageLimit,
    privateKey,
    clock,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    onEvent: (event) => {
      if (event.type === "retry") counts.retries++;
      if (event.type === "throttled") counts.throttled++;
      options.onClientEvent?.(event);
    },
  });
  const detections = createRunDetections(options.detections, (failure) =>
    options.warn?.(
      `warning: detection failed on event "${quoteUntrusted(failure.eventId, 80)}" (${quoteUntrusted(failure.message)}); the event is stored, ingestion goes on`,
    ),
  );
  const started = clock.now();
  const budgetMs = options.budgetSeconds === undefined ? undefined : options.budgetSeconds * 1000;
  const summary = await runIngest(
    {
      source,
      observer: detections.observer,
      sink: createDirectorySink({ root }),
      state: createFileStateStore({ root }),
      rateLimits: createFileRateLimitStore({ root }),
      clock,
      ...(options.reporter === undefined ? {} : { reporter: options.reporter }),
    },
    {
      stream: config.stream,
      owner: `cli-${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`,
      ...(config.startCursor === undefined ? {} : { startCursor: config.startCursor }),
      ...(budgetMs === undefined ? {} : { deadline: started + budgetMs }),
      // Enough for gzip and a local write of one chunk; a short budget keeps most of its time for fetching.
      flushReserveMs: budgetMs === undefined ? 0 : Math.min(5000, budgetMs * 0.2),
      chunkMaxBytes: config.chunkMaxBytes,
      chunkMaxAgeMs: config.chunkMaxAgeSeconds * 1000,
      rateLimitReserve: config.rateLimitReserve,
      rateLimitScope: rateLimitScope(config.docusign),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    },
  );
  const streamApi = source.streamApi;
  return {
    ...summary,
    ...counts,
    out: root,
    detections: detections.counts(),
    detectionErrors: detections.errors(),
    ...(streamApi === undefined ? {} : { streamApi }),
  };
}

/** Reads the PEM key file; warns when other users can read it. */
export async function readKeyFile(
  path: string,
  warn?: (message: string) => void,
): Promise<ReturnType<typeof parsePrivateKey>> {
  let pem: string;
  try {
    pem = await readFile(path, "utf8");
    const mode = (await stat(path)).mode;
    if ((mode & 0o077) !== 0) {
      warn?.(`warning: ${path} can be read by other users of this machine; run: chmod 600 ${path}`);
    }
  } catch (error) {
    throw new PrivateKeyError(
      ErrorCode.KeyUnavailable,
      `Cannot read the private key file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}. ` +
        "Pass --key-file (or DOCUSIGN_PRIVATE_KEY_FILE) with the path of the RSA private key PEM.",
      { cause: error },
    );
  }
  return parsePrivateKey(pem, `key file ${path}`);
}

import { type KeyObject, randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import type { MonitorLakeConfig } from "../config";
import { type BackfillReport, runBackfill } from "../core/backfill";
import type { Clock, LakeReader, ObjectSink, RateLimitStore, Reporter, StateStore } from "../core/ports";
import { type RunSummary, runIngest } from "../core/run-ingest";
import type { DetectionSettings } from "../detections/rules";
import { createRunDetections } from "../detections/run-detections";
import { DocuSignClient, type DocuSignClientEvent } from "../docusign/docusign-client";
import type { StreamApi } from "../docusign/docusign-endpoints";
import { parsePrivateKey } from "../docusign/private-key";
import { rateLimitScope } from "../docusign/rate-limit-scope";
import { quoteUntrusted } from "../docusign/untrusted-text";
import { ConfigError, ErrorCode, PrivateKeyError } from "../errors";
import { createDirectoryLakeReader } from "../local/directory-lake-reader";
import { createDirectorySink } from "../local/directory-sink";
import { createFileRateLimitStore } from "../local/file-rate-limit-store";
import { createFileStateStore } from "../local/file-state-store";

/** The run summary plus what the DocuSign client counted. */
export interface LocalRunSummary extends RunSummary {
  readonly retries: number;
  readonly throttled: number;
  /** The lake's root: an absolute directory, or `s3://bucket/prefix` for a deployment's lake. */
  readonly out: string;
  /** Where the run's state record is: `<out>/state/<id>.json`, or the DynamoDB table and item. */
  readonly state: string;
  /** The Monitor stream API read: `organization` or `lens`; absent when no page was asked for. */
  readonly streamApi?: StreamApi;
  /** Matches per detection rule among the events this run stored. */
  readonly detections: Record<string, number>;
  /** Events the detections could not match (they are stored all the same). */
  readonly detectionErrors: number;
  /** Present for a backfill (`monitor-lake backfill`): its window and what it skipped. */
  readonly backfill?: BackfillReport;
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
  /** A backfill of this window (epoch ms) instead of a stream run. @default none */
  readonly backfill?: { readonly fromMs: number; readonly toMs: number };
}

/** Where a run stores: the lake's objects, the state records, and (for a backfill) what the lake holds. */
export interface RunStorage {
  readonly sink: ObjectSink;
  readonly state: StateStore;
  /** Where DocuSign's rate-limit window is kept for every stream of the account (see RateLimitStore). */
  readonly rateLimits: RateLimitStore;
  readonly lake: LakeReader;
  /** Whether the stream's own state holds a committed cursor (a backfill needs one). */
  committed(stream: string): Promise<boolean>;
  /** The lake's root as shown to the user: an absolute directory or `s3://bucket/prefix`. */
  readonly out: string;
  /** Where a state record is kept, as shown to the user. */
  stateAt(stateKey: string): string;
}

/** One ingest run on a laptop: key file, directory lake, state file. */
export async function runLocalIngest(options: LocalRunOptions): Promise<LocalRunSummary> {
  const { config } = options;
  const root = resolve(options.out);
  if (!("file" in config.privateKey)) throw new Error("a local run reads its key from a file");
  const privateKey = await readKeyFile(config.privateKey.file, options.warn);
  return ingestWith(options, privateKey, {
    sink: createDirectorySink({ root }),
    state: createFileStateStore({ root }),
    rateLimits: createFileRateLimitStore({ root }),
    lake: createDirectoryLakeReader({ root }),
    committed: async (stream) => {
      const text = await readFile(join(root, "state", `${stream}.json`), "utf8").catch(() => undefined);
      try {
        return typeof (JSON.parse(text ?? "null") as { cursor?: unknown } | null)?.cursor === "string";
      } catch {
        return false;
      }
    },
    out: root,
    stateAt: (key) => join(root, "state", `${key}.json`),
  });
}

/** A run (or a backfill) of `options.config` with this key into this storage: the CLI's wiring of the core. */
export async function ingestWith(
  options: Omit<LocalRunOptions, "out">,
  privateKey: KeyObject,
  storage: RunStorage,
): Promise<LocalRunSummary> {
  const { config } = options;
  if (options.backfill !== undefined && !(await storage.committed(config.stream))) {
    // Its objects carry the stream's name: the stream's first run would find events of it in the lake
    // and no committed cursor, and refuse the state as lost.
    throw new ConfigError([
      `stream "${config.stream}" has not committed a cursor yet (${storage.stateAt(config.stream)}): run it ` +
        "first, then backfill. A backfill stores what the lake misses of a stream that is running; before its " +
        "first commit the stream's own run would read that window anyway.",
    ]);
  }
  const clock = options.clock ?? { now: () => Date.now(), monotonic: () => performance.now() };
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
  const ports = {
    source,
    observer: detections.observer,
    sink: storage.sink,
    state: storage.state,
    rateLimits: storage.rateLimits,
    clock,
    ...(options.reporter === undefined ? {} : { reporter: options.reporter }),
  };
  const run = {
    stream: config.stream,
    owner: `cli-${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`,
    ...(budgetMs === undefined ? {} : { deadline: started + budgetMs }),
    // Enough for gzip and a local write of one chunk; a short budget keeps most of its time for fetching.
    flushReserveMs: budgetMs === undefined ? 0 : Math.min(5000, budgetMs * 0.2),
    chunkMaxBytes: config.chunkMaxBytes,
    chunkMaxAgeMs: config.chunkMaxAgeSeconds * 1000,
    rateLimitReserve: config.rateLimitReserve,
    rateLimitScope: rateLimitScope(config.docusign),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  const summary: RunSummary & { backfill?: BackfillReport } =
    options.backfill === undefined
      ? await runIngest(
          { ...ports, lake: storage.lake },
          {
            ...run,
            ...(config.startCursor === undefined ? {} : { startCursor: config.startCursor }),
          },
        )
      : await runBackfill({ ...ports, lake: storage.lake }, { ...run, ...options.backfill });
  const streamApi = source.streamApi;
  return {
    ...summary,
    ...counts,
    out: storage.out,
    state: storage.stateAt(summary.backfill?.stateKey ?? summary.stream),
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

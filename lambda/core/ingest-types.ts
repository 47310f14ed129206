import type {
  ChunkObserver,
  Clock,
  EventPage,
  EventSource,
  LakeReader,
  ObjectSink,
  RateLimitStore,
  ReceivedEvent,
  Reporter,
  StateStore,
} from "./ports";

/**
 * What one ingest run is given (its ports, its options, a backfill's window) and what it returns (its
 * summary and why it stopped): the contract between `runIngest` and its callers.
 */

/** Why a run ended as planned. */
export const StoppedBy = {
  CaughtUp: "caught-up",
  Budget: "budget",
  RateLimit: "rate-limit",
  /** The caller's `signal` stopped it (the CLI's Ctrl-C or SIGTERM). */
  Signal: "signal",
  /** A backfill: the stream's events are past the window's end (`IngestWindow.passed`). */
  WindowEnd: "window-end",
} as const;
export type StoppedBy = (typeof StoppedBy)[keyof typeof StoppedBy];

/** The run summary: printed by the CLI (`--json`), returned and logged by the Lambda. */
export interface RunSummary {
  readonly stream: string;
  /** Events stored by this run (duplicates within a chunk dropped). */
  readonly events: number;
  readonly pages: number;
  readonly objects: number;
  /** Gzipped bytes written. */
  readonly bytes: number;
  /** The committed cursor the next run resumes from. */
  readonly cursor: string;
  readonly caughtUp: boolean;
  readonly stoppedBy: StoppedBy;
  readonly durationMs: number;
  /** The cursor this run started from. */
  readonly startCursor: string;
  /** UTC days (`dt` partitions) this run wrote to. */
  readonly days: readonly string[];
  /** Exact repeats dropped: events whose text (CR and LF removed) the id window held (`RECENT_EVENTS`). */
  readonly duplicatesDropped: number;
  /**
   * "Untimed" events stored: no usable timestamp (missing, not a string, unreadable, before 1970 or from
   * 2100 on), filed under the fixed day UNTIMED_DAY (1970-01-01), which Athena reads through
   * `events_lines_untimed` and `events_dedup`.
   */
  readonly untimedEvents: number;
  /**
   * Events stored whose timestamp is more than a day after the ingest clock: filed under their own
   * day like any other (so a later delivery lands beside them), which Athena's tables read once that
   * day has come; never the stream's newest event time.
   */
  readonly futureEvents: number;
  /** The newest event timestamp the stream has stored (ISO-8601), if any. */
  readonly newestEventTime?: string;
  /**
   * Present (true) when DocuSign answered the cursor sent with events that were all stored already and
   * the same cursor again: the stream cannot advance (the run also warns, the Lambda counts the
   * `StreamNotAdvancing` metric).
   */
  readonly notAdvancing?: true;
  /**
   * When the run stopped for DocuSign's rate limit (or found it held): the reset (ISO-8601) before
   * which no run of the stream, nor of another stream of its integration key and account, sends a
   * request. Absent when no reset is known.
   */
  readonly rateLimitResetAt?: string;
}

export interface IngestPorts {
  readonly source: EventSource;
  readonly sink: ObjectSink;
  readonly state: StateStore;
  readonly clock: Clock;
  readonly reporter?: Reporter;
  /** Told what each chunk accepted and when it commits (detections). @default none */
  readonly observer?: ChunkObserver;
  /**
   * Where the rate-limit window's reset is kept for `IngestOptions.rateLimitScope`. @default none: each
   * run learns the window from its own first answer
   */
  readonly rateLimits?: RateLimitStore;
  /**
   * The lake, asked once by a run that finds nothing committed whether it holds events of the stream:
   * then the state was deleted or lost, and the run refuses rather than store the stream again.
   * @default none: not asked
   */
  readonly lake?: Pick<LakeReader, "holdsEvents" | "recoverCommand">;
}

export interface IngestOptions {
  /** The stream's id: names its state and its objects. */
  readonly stream: string;
  /**
   * Unique id of this run instance, the lease owner; it names the run's objects. Never reuse one, not
   * even for a second delivery of the same invocation.
   */
  readonly owner: string;
  /** Where a stream with no committed cursor starts: a cursor or an ISO-8601 date-time. @default seven days ago */
  readonly startCursor?: string;
  /** Epoch ms by which the run must have finished, commit included. @default none: run until caught up */
  readonly deadline?: number;
  /** Time kept free before the deadline for the last flush and commit. */
  readonly flushReserveMs: number;
  /** A chunk is written and committed once it stands for this many bytes of NDJSON. */
  readonly chunkMaxBytes: number;
  /**
   * A chunk is also written and committed once it is this old (checked after every page), so that a
   * crash loses at most this much work. @default 60 seconds
   */
  readonly chunkMaxAgeMs?: number;
  /** Largest NDJSON size of one object before it is split into parts. @default chunkMaxBytes */
  readonly partMaxBytes?: number;
  /**
   * Stop once `X-RateLimit-Remaining` is down to this share of `X-RateLimit-Limit` (0..1), and send no
   * request until the window resets (`rateLimits`).
   */
  readonly rateLimitReserve: number;
  /**
   * The stream's integration key and account (`rateLimitScope`): streams of one scope share DocuSign's
   * rate limit, and so the reset recorded in `rateLimits`. @default none: no reset is kept
   */
  readonly rateLimitScope?: string;
  /** How long the lease lasts when the run has no deadline; renewed by every commit. @default 15 minutes */
  readonly leaseMs?: number;
  /** Stops the run as if its deadline had come (Ctrl-C), with `stoppedBy: "signal"`. */
  readonly signal?: AbortSignal;
  /** A backfill's window (core/backfill.ts): its own state record, which events it stores, when it ends. @default none */
  readonly window?: IngestWindow;
}

/**
 * What makes a run a backfill: the same lease, fencing, intent and commit as a stream run, under its
 * own state record, storing only the events `keep` accepts, until `passed`.
 */
export interface IngestWindow {
  /** The state record's id (its cursor, lease and fencing token), never a stream's; objects keep the stream's name. */
  readonly stateKey: string;
  /** After the lease is taken and a failed attempt's keys are fenced, before the first page. */
  prepare(): Promise<void>;
  /** Whether the event is stored (inside the window and not in the lake yet). */
  keep(event: ReceivedEvent, ingestMs: number): boolean;
  /** True when no later page can hold an event of the window. */
  passed(page: EventPage, ingestMs: number): boolean;
  /**
   * The cursor committed once the window is done (`stoppedBy` window-end, or caught up after the
   * window's end): the next run of the same backfill starts over and re-checks the whole window.
   * Undefined: the run did not finish the window, the next one resumes from the committed cursor.
   */
  restartCursor(stoppedBy: StoppedBy | undefined, now: number): string | undefined;
}

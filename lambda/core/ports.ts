/**
 * The ports of the ingest core. The core talks only to these; adapters implement them for AWS
 * (S3, DynamoDB), for a laptop (a directory, a state file) and for DocuSign.
 */

/** One Monitor event exactly as DocuSign sent it. Never narrowed to a model: new fields pass through. */
export type MonitorEvent = Readonly<Record<string, unknown>>;

/** DocuSign's account rate-limit headers, as of the last response. */
export interface RateLimitStatus {
  /** `X-RateLimit-Limit`: requests allowed per window (3,000 per hour by default). */
  readonly limit: number;
  /** `X-RateLimit-Remaining`: requests left in the current window. */
  readonly remaining: number;
  /** `X-RateLimit-Reset` as epoch milliseconds, when known. */
  readonly resetAtMs?: number;
}

/**
 * One event of a page: its original JSON text and the same text parsed. The lake stores `raw`, byte for
 * byte (numbers such as `12345678901234567890` or `1e400` survive); the core reads `event` only for the
 * fields it needs (`eventId`, `timestamp`).
 */
export interface ReceivedEvent {
  /** The event's JSON text as DocuSign sent it, without CR or LF (insignificant whitespace in JSON). */
  readonly raw: string;
  readonly event: MonitorEvent;
}

/** One page of the Monitor stream. */
export interface EventPage {
  readonly events: readonly ReceivedEvent[];
  /** The cursor to send next. Equal to the cursor sent when there is nothing new. Opaque. */
  readonly endCursor: string;
  /** Present when DocuSign sent rate-limit headers. */
  readonly rateLimit?: RateLimitStatus;
}

export interface FetchPageRequest {
  /** An `endCursor` from an earlier page, or an ISO-8601 date-time to start from. */
  readonly cursor: string;
  /** Epoch ms by which the fetch must have returned or failed with a `DeadlineError`. */
  readonly deadline?: number;
  /** Aborts the fetch (for example Ctrl-C); the source then fails with a `DeadlineError`. */
  readonly signal?: AbortSignal;
}

/** Where events come from: the DocuSign Monitor stream (or the simulator, or a test fake). */
export interface EventSource {
  fetchPage(request: FetchPageRequest): Promise<EventPage>;
}

/** Provenance stored with every object (S3 user metadata, a sidecar locally). */
export interface ObjectMetadata {
  readonly stream: string;
  readonly startCursor: string;
  readonly endCursor: string;
  readonly eventCount: number;
  /** ISO-8601 time the object was built. */
  readonly ingestedAt: string;
  /**
   * Objects the chunk wrote in all (its days and parts, this one included): `recover` counts a chunk's
   * objects against it to prove the chunk complete. Absent on objects written before it existed.
   */
  readonly chunkObjects?: number;
}

/** One gzipped NDJSON object of the lake. */
export interface LakeObject {
  /** Relative to the lake's root: `events/dt=YYYY-MM-DD/<stream>-<chunk>-<part>.json.gz`. */
  readonly key: string;
  readonly body: Uint8Array;
  readonly metadata: ObjectMetadata;
}

/**
 * Durable object storage that never overwrites. `put` resolves only once the object is durably stored;
 * it creates the key or fails (S3 `If-None-Match: *`), and an object already there with the very same
 * content counts as stored (a retried put whose first answer was lost).
 */
export interface ObjectSink {
  /** Creates the object; a `StorageError` when the key holds other content (or a fence). */
  put(object: LakeObject, signal?: AbortSignal): Promise<void>;
  /**
   * Makes sure no event is ever stored at `key` (relative to the lake's root): whatever is there is
   * replaced by a fence, an object with no events, and every later `put` to the key fails. This is how
   * the writes of an attempt that never committed are removed, even writes that land long after.
   */
  fence(key: string, signal?: AbortSignal): Promise<void>;
}

/**
 * A chunk whose objects may be (partly) written but whose cursor is not committed: recorded under the
 * lease before the first object is written (design step 7), cleared by the commit (step 8). A later run
 * that finds it fences exactly these keys, so nothing of a failed attempt stays in the lake, and nothing
 * its writer may still send (a zombie) can land there afterwards.
 */
export interface PendingChunk {
  /** The run that recorded it. */
  readonly owner: string;
  readonly startCursor: string;
  readonly endCursor: string;
  /** The chunk id in its keys (`chunkId` of start cursor, version and owner). */
  readonly chunk: string;
  /**
   * Its days and parts per day (`encodeParts`): with `chunk` and the stream they name every key the
   * attempt may write (`pendingKeys`), in a few bytes per day rather than a list of keys.
   */
  readonly parts: string;
}

/** What the state store keeps per stream. */
export interface StreamState {
  /** The cursor to resume from; absent for a stream never committed. */
  readonly cursor?: string;
  /** Increases with every commit; commits are conditional on it. */
  readonly version: number;
  /** The newest event `timestamp` ever stored (ISO-8601), for lag. */
  readonly newestEventTime?: string;
  /** Events stored over the stream's lifetime. */
  readonly totalEvents: number;
  /**
   * The `eventHash` (event-text.ts) of the last events committed, with or without an `eventId`, so that
   * an exact text DocuSign repeats across pages or runs is dropped. Schema 4; an older state's
   * `recentEventIds` (ids, which cannot be compared to texts) is not read.
   */
  readonly recentEventHashes?: readonly string[];
  /** The chunk being written, if a run recorded its intent and has not committed it. */
  readonly pending?: PendingChunk;
  /**
   * Keys of failed attempts that an older state listed: schema 1's stale keys (deleted for an hour) and
   * the key list of a pending chunk of schema 1 or 2. A run fences them at its start and its first write
   * drops them. Schema 3 stores none: a fenced key needs no remembering.
   */
  readonly staleKeys?: readonly string[];
  /** The state's shape: absent for schema 1 (before fencing), `STATE_SCHEMA` when written now. */
  readonly schema?: number;
}

/**
 * Taking the lease moves the version on: the version is the run's fencing token. Every later write of
 * the run (intent, commit) is a compare-and-swap on it, so a run that lost the lease (or a second copy
 * of it) can never write the state again, and every key of its objects names the version and owner.
 */
export interface AcquireRequest {
  readonly stream: string;
  /** Unique per run instance (never reused, not even by a second delivery of one invocation). */
  readonly owner: string;
  readonly now: number;
  /** Epoch ms the lease lasts until unless renewed by a commit. */
  readonly leaseUntil: number;
}

/** Design step 7: the chunk's intent, recorded before any of its objects is written. */
export interface IntentRequest {
  readonly stream: string;
  readonly owner: string;
  /** The state's current version; the intent moves it to `expectedVersion + 1`. */
  readonly expectedVersion: number;
  readonly pending: PendingChunk;
  readonly now: number;
  readonly leaseUntil: number;
}

export interface CommitRequest {
  readonly stream: string;
  readonly owner: string;
  /** The version read at acquire or returned by the previous commit. */
  readonly expectedVersion: number;
  readonly cursor: string;
  readonly newestEventTime?: string;
  /** Events stored by this commit's chunk. */
  readonly events: number;
  /** The `eventHash` of the last events stored (at most `RECENT_EVENTS`), oldest first. */
  readonly recentEventHashes: readonly string[];
  readonly now: number;
  readonly leaseUntil: number;
}

/**
 * Cursor and lease per stream. `acquire` throws `LeaseHeldError` when a live run holds the lease and
 * `StateInvalidError` when the stored state is corrupt (without taking the lease); it moves the version
 * on (the fencing token). `recordIntent` and `commit` throw `LeaseLostError` when this run lost the
 * lease or the version moved. Both bump the version and write `schema: STATE_SCHEMA` (dropping an older
 * schema's stale keys and key lists); `commit` sets the cursor and clears `pending`.
 */
export interface StateStore {
  acquire(request: AcquireRequest): Promise<StreamState>;
  recordIntent(request: IntentRequest): Promise<StreamState>;
  commit(request: CommitRequest): Promise<StreamState>;
  release(request: { readonly stream: string; readonly owner: string }): Promise<void>;
}

/** A cursor as an object records it: `link` compares with other records, `cursor` is there to resume from. */
export interface CursorRecord {
  /** Equal for equal cursors, whatever the store (S3 keeps a cursor too long for its metadata as a hash). */
  readonly link: string;
  /** The cursor itself; absent when only its hash is recorded. */
  readonly cursor?: string;
}

/** The provenance an object of the lake records (`ObjectMetadata` as read back). */
export interface RecordedMetadata {
  readonly stream: string;
  readonly start: CursorRecord;
  readonly end: CursorRecord;
  readonly eventCount: number;
  readonly ingestedAt: string;
  /** @see ObjectMetadata.chunkObjects */
  readonly chunkObjects?: number;
}

/** One object of a stream, as a listing of the lake shows it. */
export interface LakeEntry {
  /** Relative to the lake's root: `events/dt=YYYY-MM-DD/<stream>-<chunk>-<part>.json.gz`. */
  readonly key: string;
  /** An object with no events that replaced a failed attempt's (see `ObjectSink.fence`). */
  readonly fenced: boolean;
}

/** What a lake reader's error says when a run with nothing committed asked it (`LakeReader.holdsEvents`). */
export const STARTS_ASK_LAKE =
  "A stream with nothing committed first checks that the lake holds none of its events (a state deleted or " +
  "lost); nothing was read from DocuSign or changed.";

/** Reads the lake back: for `recover`, which objects a stream has, what each records, which ids it holds; for a backfill, what a day holds. */
export interface LakeReader {
  /** Every object of the stream under `events/`, fences included. */
  list(stream: string): Promise<LakeEntry[]>;
  /**
   * Whether the lake holds an object with events of the stream (a fence is none): asked by a run that
   * finds nothing committed, before it starts the stream at its start cursor.
   */
  holdsEvents(stream: string): Promise<boolean>;
  /** The operator's command that rebuilds the stream's state from this lake (`recover`), for messages. */
  recoverCommand(stream: string): string;
  /** What the object records; undefined when it records nothing (a fence, a write cut before its provenance). */
  metadata(key: string): Promise<RecordedMetadata | undefined>;
  /** The `eventHash` (event-text.ts) of each of the object's events, in order. */
  eventHashes(key: string): Promise<string[]>;
  /**
   * The event lines of one stream's objects in one day partition (`events/dt=<day>/<stream>-…`), for
   * a backfill, which stores only what is missing: the objects `streamOfObjectName` attributes to
   * `stream`; fences hold no lines.
   */
  lines(stream: string, day: string): AsyncIterable<string>;
}

/** What `recover` writes: a state of the current schema (`STATE_SCHEMA`) with no lease and no pending chunk. */
export interface RecoveredState {
  /** Absent: the lake holds nothing of the stream to resume after, the stream starts at its start. */
  readonly cursor?: string;
  readonly totalEvents: number;
  readonly recentEventHashes: readonly string[];
}

/**
 * What `recover` found stored: nothing, a state that is not valid, a valid state with nothing committed
 * (`empty`: no cursor, no intent, as a run leaves that found no state and refused to start the stream
 * again), or a valid one.
 */
export type StoredStateKind = "missing" | "empty" | "valid" | "invalid";

/** The stream held for recovery: no run can take its lease until `end`. */
export interface RecoverySession {
  readonly stored: StoredStateKind;
  /** The stored state's problems when it is invalid. */
  readonly problems: readonly string[];
  /**
   * Replaces the stored state by `state` (a version above the stored one, no lease), only if it is
   * still what `begin` read: a `LeaseLostError` when it changed in between.
   */
  write(state: RecoveredState): Promise<void>;
  end(): Promise<void>;
}

/** The state store's side of `recover`. */
export interface StateRecovery {
  /** Holds the stream; a `LeaseHeldError` while a live run holds its lease (or, locally, its lock). */
  begin(stream: string, now: number): Promise<RecoverySession>;
}

/**
 * DocuSign's rate-limit window, shared by every stream of one integration key and account (a "scope",
 * `rateLimitScope`): the time the window resets, recorded when a run reaches the reserve, so that no
 * stream of the scope sends a request before then and the reserve stays free for the account's other
 * integrations. Kept beside the streams' state (the state table, the lake's state folder).
 */
export interface RateLimitStore {
  /** The reset time recorded for `scope` (epoch ms); undefined when none is recorded or it is unreadable. */
  resetAt(scope: string): Promise<number | undefined>;
  /**
   * Records `resetAtMs` for `scope` unless a later reset is recorded already: a conditional write that
   * only moves the reset later, whatever runs write at once. A recorded reset more than one window
   * past `now` (a clock that stepped back) is replaced.
   */
  holdUntil(request: {
    readonly scope: string;
    readonly resetAtMs: number;
    readonly now: number;
  }): Promise<void>;
}

/** The clocks, so that the core never reads them directly. */
export interface Clock {
  /** Wall-clock epoch ms: for timestamps, leases and deadlines other processes compare. */
  now(): number;
  /**
   * Milliseconds from an arbitrary origin that never jump (`performance.now()`): for ages, durations and
   * budgets within the run, which a wall-clock step (NTP, a VM resumed, a container's skew) must not
   * stretch or shrink. @default now() (a clock without it gets no protection against steps)
   */
  monotonic?(): number;
}

/** After every page: what the CLI prints and the Lambda logs. */
export interface PageReport {
  readonly stream: string;
  readonly pages: number;
  readonly pageEvents: number;
  /** Events accepted so far in this run (after dropping duplicates). */
  readonly events: number;
  /** Newest event time seen so far (epoch ms), if any event had a timestamp. */
  readonly newestEventMs?: number;
  readonly now: number;
  readonly rateLimit?: RateLimitStatus;
}

/** After every commit. */
export interface CommitReport {
  readonly stream: string;
  readonly keys: readonly string[];
  readonly events: number;
  readonly bytes: number;
  readonly cursor: string;
}

/**
 * Sees the events the core stores, chunk by chunk (the detections). `accepted` gets each page's events
 * that the open chunk took (repeats dropped); `committed` says that every event accepted since the last
 * `committed` is now committed. Events of a chunk that never commits are never followed by
 * `committed`, so an observer counting at `committed` counts each stored event once. The core calls it
 * after its own work and only reports its failures as warnings: it never fails or stalls a run.
 */
export interface ChunkObserver {
  accepted(events: readonly MonitorEvent[]): void;
  committed(): void;
}

/** Progress notifications; every method is optional. */
export interface Reporter {
  page?(report: PageReport): void;
  committed?(report: CommitReport): void;
  /** Something went wrong that does not fail the run (for example the lease could not be released). */
  warning?(message: string): void;
}
